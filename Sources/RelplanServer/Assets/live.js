// relplan: the calendar page follows the plan live. The server pushes `change` (Server-Sent
// Events, /events) whenever anyone changes the plan; the page fetches itself again and swaps
// its body in. Without JavaScript the page works the same, reloaded by hand.
(function () {
  "use strict";
  if (!window.EventSource || !window.fetch || !window.DOMParser) return;
  var pending = null;
  function status(text) {
    var el = document.getElementById("live-status");
    if (el) el.textContent = text;
  }
  function refresh() {
    pending = null;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html");
        // Keep what the person is typing (a rejection reason) by not refreshing mid-edit.
        var active = document.activeElement;
        if (active && active.tagName === "INPUT" && active.value) { pending = setTimeout(refresh, 2000); return; }
        document.body.replaceWith(next.body);
        status("updated " + new Date().toLocaleTimeString());
      })
      .catch(function () { status("offline"); });
  }
  var source = new EventSource("/events");
  source.addEventListener("change", function () {
    if (pending) clearTimeout(pending);
    pending = setTimeout(refresh, 250);
  });
  source.addEventListener("open", function () { status("live"); });
  source.addEventListener("error", function () { status("reconnecting…"); });
})();
