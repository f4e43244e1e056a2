// The dashboard's little JavaScript: focus on a confirmation, and the work queue's live refresh.
(function () {
  "use strict";
  // After saving, focus moves to the confirmation (or refusal) so a screen reader reads it.
  var said = document.querySelector("[data-focus-on-load]");
  if (said) { said.focus(); }
})();

// Live refresh of the work queue: fetch its rows every few seconds, replace them when changed,
// and give focus back to the same case's link when it was on one.
(function () {
  "use strict";
  var body = document.querySelector("[data-refresh-url]");
  if (!body || !window.fetch) { return; }
  var url = body.getAttribute("data-refresh-url");
  var seconds = parseInt(body.getAttribute("data-refresh-seconds"), 10) || 5;
  var status = document.getElementById(body.getAttribute("data-status"));
  var last = null;
  function count() { return body.querySelectorAll("tr[data-case]").length; }
  function focusedCase() {
    var active = document.activeElement;
    if (!active || !body.contains(active)) { return null; }
    var row = active.closest("tr[data-case]");
    return row ? row.getAttribute("data-case") : null;
  }
  function refocus(caseId) {
    var rows = body.querySelectorAll("tr[data-case]");
    for (var i = 0; i < rows.length; i += 1) {
      if (rows[i].getAttribute("data-case") === caseId) {
        var link = rows[i].querySelector("a");
        if (link) { link.focus(); }
        return;
      }
    }
  }
  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (answer) {
        if (answer.status === 401) { window.location.reload(); return null; }
        return answer.ok ? answer.text() : null;
      })
      .then(function (html) {
        if (html === null || html === last) { return; }
        var before = count();
        var focused = focusedCase();
        body.innerHTML = html;
        last = html;
        if (focused) { refocus(focused); }
        var now = count();
        if (status && now > before) {
          status.textContent = (now - before) + " nieuwe casus(sen) in de werkvoorraad.";
        }
      })
      .catch(function () {
        if (status) { status.textContent = "Verversen lukt even niet; de lijst kan verouderd zijn."; }
      })
      .then(function () { window.setTimeout(refresh, seconds * 1000); });
  }
  window.setTimeout(refresh, seconds * 1000);
})();

// A print button (the meeting's agenda and minutes): the browser's print dialog.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-print]");
  for (var i = 0; i < buttons.length; i += 1) {
    buttons[i].addEventListener("click", function () { window.print(); });
  }
})();
