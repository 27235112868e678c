// Reloads the page every data-refresh seconds so new events and status changes appear without
// a framework. It holds off while a form field has focus (someone is typing a filter) and
// while the "live" box is unticked; that choice survives the reloads in sessionStorage.
(function () {
  "use strict";
  var secs = Number(document.body.getAttribute("data-refresh")) || 0;
  if (secs <= 0) return;
  var key = "hookline.live";
  var box = document.getElementById("live");
  var label = document.getElementById("live-label");
  if (box && label) {
    label.hidden = false;
    box.checked = sessionStorage.getItem(key) !== "off";
    box.addEventListener("change", function () {
      sessionStorage.setItem(key, box.checked ? "on" : "off");
    });
  }
  setInterval(function () {
    if (box && !box.checked) return;
    var a = document.activeElement;
    if (a && a !== box && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(a.tagName)) return;
    location.reload();
  }, secs * 1000);
})();
