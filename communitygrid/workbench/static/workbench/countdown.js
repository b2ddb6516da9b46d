// Live countdowns: every <time data-due> shows the time left (or overdue) and updates itself.
// The wording comes from the page (data-* on <body>-level container), so it is translated.
(function () {
  "use strict";
  function words() {
    var box = document.querySelector("[data-countdown-words]");
    return box ? box.dataset : null;
  }
  function fill(template, values) {
    return template.replace(/%\((\w+)\)[sd]/g, function (_m, key) { return values[key]; });
  }
  function span(w, seconds) {
    var minutes = Math.floor(Math.max(seconds, 0) / 60);
    var d = Math.floor(minutes / 1440), h = Math.floor(minutes / 60) % 24, m = minutes % 60;
    if (d) return fill(w.days, {d: d, h: h});
    if (h) return fill(w.hours, {h: h, m: m});
    return fill(w.minutes, {m: m});
  }
  function tick() {
    var w = words();
    if (!w) return;
    var now = Date.now();
    document.querySelectorAll("time[data-due]").forEach(function (el) {
      var seconds = Math.round((Date.parse(el.dataset.due) - now) / 1000);
      var text = seconds < 0 ? fill(w.over, {time: span(w, -seconds)}) : fill(w.left, {time: span(w, seconds)});
      var label = el.querySelector(".left");
      if (label && label.textContent !== text) label.textContent = text;
      var row = el.closest("[data-row]");
      if (row) row.classList.toggle("overdue", seconds < 0);
    });
  }
  tick();
  setInterval(tick, 15000);
  document.addEventListener("htmx:afterSwap", tick);
})();
