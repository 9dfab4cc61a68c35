// Marks that scripts run, so no-JavaScript fallbacks (e.g. "Update" buttons) can hide.
document.documentElement.classList.replace("no-js", "js");

// Live dashboard: when a dropped event stream comes back, fetch the live fragments again so
// whatever changed while it was down shows up (the server keeps no backlog of events).
document.addEventListener("htmx:sseOpen", (event) => {
  const source = event.detail.elt;
  if (source.dataset.streamOpened) {
    source.querySelectorAll("[data-live]").forEach((fragment) => htmx.trigger(fragment, "live:resync"));
  }
  source.dataset.streamOpened = "true";
});
