// Marks that scripts run, so no-JavaScript fallbacks (e.g. "Update" buttons) can hide.
document.documentElement.classList.replace("no-js", "js");
