/* The process diagrams of a page (web/templates/process_diagram.html): each `.process-diagram` element is drawn
   by the vendored bpmn-js navigated viewer (window.BpmnJS) from the BPMN XML at its data-diagram-url, fitted to
   its box (drag to pan; the widget's buttons zoom: the mouse wheel keeps scrolling the page, not the diagram),
   and marked from the JSON at its data-position-url ({"ready", "done", "waiting", "error", "active"}: BPMN ids).
   The element records how it went for tests and styles: data-state ("drawn" or "failed") and
   data-import-warnings (how many warnings the import gave). No inline script or style: the page's CSP allows
   neither, and bpmn-js styles its elements through the CSSOM, which the CSP leaves alone. */
(function () {
  "use strict";

  var MARKERS = {ready: "pos-ready", done: "pos-done", waiting: "pos-waiting", error: "pos-error",
                 active: "pos-active"};
  var REACHED = ["done", "ready", "waiting", "error", "active"];  // a flow into one of these was taken

  function fetched(url, accept) {
    return fetch(url, {credentials: "same-origin", headers: {Accept: accept}}).then(function (response) {
      if (!response.ok) { throw new Error(url + ": HTTP " + response.status); }
      return response;
    });
  }

  function ids(position, states) {
    var found = {};
    states.forEach(function (state) {
      (position[state] || []).forEach(function (id) { found[id] = true; });
    });
    return found;
  }

  // The completed path: the done nodes, and each sequence flow from a done node to one that was reached.
  function mark(viewer, position) {
    var canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry");
    Object.keys(MARKERS).forEach(function (state) {
      (position[state] || []).forEach(function (id) {
        if (registry.get(id)) { canvas.addMarker(id, MARKERS[state]); }
      });
    });
    var done = ids(position, ["done"]), reached = ids(position, REACHED);
    registry.filter(function (element) { return element.type === "bpmn:SequenceFlow"; }).forEach(function (flow) {
      var bo = flow.businessObject;
      if (bo.sourceRef && bo.targetRef && done[bo.sourceRef.id] && reached[bo.targetRef.id]) {
        canvas.addMarker(flow.id, MARKERS.done);
      }
    });
    // Where the work is may sit in a collapsed sub-process, drawn on a plane of its own: show that plane (the
    // ready tasks' first, else the one where something is under way). The breadcrumbs lead back.
    var root = canvas.getRootElement();
    var planes = function (states) {
      return (states.reduce(function (all, s) { return all.concat(position[s] || []); }, []))
        .map(function (id) { return registry.get(id); }).filter(Boolean)
        .map(function (element) { return canvas.findRoot(element); });
    };
    var ready = planes(["ready"]);
    var plane = ready.length ? ready[0] : planes(["error", "active", "waiting"]).filter(function (p) {
      return p !== root;
    })[0];
    if (plane && plane !== root) {
      canvas.setRootElement(plane);
      canvas.zoom("fit-viewport", "auto");
    }
  }

  var ZOOM_STEP = 1.25;

  // The wheel would zoom the diagram instead of scrolling a long case page: zooming is the buttons' job.
  function tools(element, viewer) {
    var zoomScroll = viewer.get("zoomScroll", false);
    if (zoomScroll) { zoomScroll.toggle(false); }
    var bar = element.querySelector(".process-diagram-tools");
    if (!bar) { return; }
    var canvas = viewer.get("canvas");
    bar.addEventListener("click", function (event) {
      var how = event.target.closest("[data-zoom]");
      if (!how) { return; }
      if (how.dataset.zoom === "fit") {
        canvas.zoom("fit-viewport", "auto");
      } else {
        var scale = canvas.zoom() * (how.dataset.zoom === "in" ? ZOOM_STEP : 1 / ZOOM_STEP);
        canvas.zoom(Math.min(4, Math.max(0.2, scale)), "auto");
      }
    });
    bar.hidden = false;
  }

  function failed(element, warnings) {
    element.dataset.state = "failed";
    element.dataset.importWarnings = String(warnings);
    var message = element.querySelector(".process-diagram-failed");
    if (message) { message.hidden = false; }
  }

  function draw(element) {
    if (typeof window.BpmnJS !== "function") { failed(element, 0); return; }
    var box = document.createElement("div");
    box.className = "process-diagram-canvas";
    element.appendChild(box);
    var viewer = new window.BpmnJS({container: box});
    var positionUrl = element.dataset.positionUrl;
    // A position that cannot be read leaves the diagram drawn, unmarked, and says so (data-position="failed").
    var position = positionUrl
      ? fetched(positionUrl, "application/json").then(function (r) { return r.json(); })
        .catch(function () { element.dataset.position = "failed"; return null; })
      : Promise.resolve(null);
    fetched(element.dataset.diagramUrl, "application/xml")
      .then(function (response) { return response.text(); })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function (result) {
        element.dataset.importWarnings = String(result.warnings.length);
        result.warnings.forEach(function (warning) { console.warn("process diagram:", warning.message); });
        viewer.get("canvas").zoom("fit-viewport", "auto");
        tools(element, viewer);
        return position;
      })
      .then(function (found) {
        if (found) { mark(viewer, found); }
        element.dataset.state = "drawn";
      })
      .catch(function (err) {
        box.remove();
        failed(element, err && err.warnings ? err.warnings.length : 0);
      });
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll(".process-diagram[data-diagram-url]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
}());
