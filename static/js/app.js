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

// Search results (okrs/search.html): ↓ and ↑ move from the search box through the results and
// back; Enter opens the focused result (it is a link). "/" anywhere but a field jumps to the
// header's search box.
document.addEventListener("keydown", (event) => {
  const target = event.target;
  const inField = target.closest && target.closest("input, textarea, select, [contenteditable]");
  if (event.key === "/" && !inField && !event.ctrlKey && !event.metaKey && !event.altKey) {
    const box = document.getElementById("header-search-q");
    if (box) {
      event.preventDefault();
      box.focus();
      box.select();
    }
    return;
  }
  if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
  const hits = Array.from(document.querySelectorAll("[data-search-hit]"));
  if (!hits.length) return;
  const onBox = target.matches && target.matches("[data-search-input]");
  const at = hits.indexOf(target);
  if (!onBox && at < 0) return;
  event.preventDefault();
  if (onBox) {
    if (event.key === "ArrowDown") hits[0].focus();
    return;
  }
  if (event.key === "ArrowDown") {
    hits[Math.min(at + 1, hits.length - 1)].focus();
  } else if (at === 0) {
    document.getElementById("search-page-q").focus();
  } else {
    hits[at - 1].focus();
  }
});
