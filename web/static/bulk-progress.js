// The progress bar of a bulk job that runs in the background: polls the job's JSON progress and reloads the
// page (which then lists the results) once the job has finished. Without JavaScript the page has a Refresh link.
(function () {
  "use strict";
  var section = document.getElementById("job-progress");
  if (!section || section.dataset.finished === "true") {
    return;
  }
  var bar = section.querySelector("progress");
  var url = section.dataset.progressUrl;
  var INTERVAL_MS = 1500;

  function show(progress) {
    bar.max = progress.total || 1;
    bar.value = progress.processed;
    bar.textContent = progress.percent + "%";
    ["done", "refused", "skipped"].forEach(function (state) {
      var cell = section.querySelector('[data-count="' + state + '"]');
      if (cell) {
        cell.textContent = String(progress.counts[state] || 0);
      }
    });
  }

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) {
          throw new Error("progress " + response.status);
        }
        return response.json();
      })
      .then(function (progress) {
        show(progress);
        if (progress.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, INTERVAL_MS);
        }
      })
      .catch(function () {
        window.setTimeout(poll, INTERVAL_MS * 4);  // the server restarted or the session ended: try again later
      });
  }

  window.setTimeout(poll, INTERVAL_MS);
})();
