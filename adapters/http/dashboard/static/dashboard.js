// Live refresh of the work queue: fetch its rows every few seconds, replace them when changed.
(function () {
  "use strict";
  var body = document.querySelector("[data-refresh-url]");
  if (!body || !window.fetch) { return; }
  var url = body.getAttribute("data-refresh-url");
  var seconds = parseInt(body.getAttribute("data-refresh-seconds"), 10) || 5;
  var status = document.getElementById(body.getAttribute("data-status"));
  var last = null;
  function count() { return body.querySelectorAll("tr[data-case]").length; }
  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (answer) {
        if (answer.status === 401) { window.location.reload(); return null; }
        return answer.ok ? answer.text() : null;
      })
      .then(function (html) {
        if (html === null || html === last) { return; }
        var before = count();
        body.innerHTML = html;
        last = html;
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
