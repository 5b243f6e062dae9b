// The import job page's progress bar: polls the job's progress (JSON) and reloads the page when the job is
// finished, so that the result appears. Without JavaScript the page offers a link to refresh instead.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || box.getAttribute("data-finished") === "true") {
    return;
  }
  var url = box.getAttribute("data-progress-url");
  var bar = box.querySelector("progress");
  var processed = box.querySelector("[data-processed]");
  var percent = box.querySelector("[data-percent]");

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (progress) {
        if (!progress) {
          return;
        }
        bar.max = progress.total || 1;
        bar.value = progress.processed;
        processed.textContent = progress.processed;
        percent.textContent = progress.percent;
        if (progress.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1500);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
