/* Resident portal: progressive enhancement only; every form works without this file. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var zh = (document.documentElement.lang || "zh-Hans").indexOf("zh") === 0;

  // A sent request needs no draft any more.
  var clear = document.querySelector("[data-clear-draft]");
  if (clear) { try { localStorage.removeItem(clear.getAttribute("data-clear-draft")); } catch (e) {} }

  var form = document.getElementById("request-form");
  if (!form) { return; }
  var key = form.getAttribute("data-draft");
  // Messages come translated from the page (data-msg-*).
  function t(name) { return form.getAttribute("data-msg-" + name) || ""; }
  var SKIP = { csrfmiddlewaretoken: 1, idempotency_key: 1, attachments: 1 };

  function saveDraft() {
    var draft = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.type === "file") { return; }
      if ((el.type === "radio" || el.type === "checkbox")) { if (el.checked) { draft[el.name] = el.value; } }
      else { draft[el.name] = el.value; }
    });
    try { localStorage.setItem(key, JSON.stringify(draft)); } catch (e) {}
  }
  function restoreDraft() {
    var draft;
    try { draft = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { draft = null; }
    if (!draft) { return; }
    Object.keys(draft).forEach(function (name) {
      var fields = form.querySelectorAll('[name="' + name + '"]');
      Array.prototype.forEach.call(fields, function (el) {
        if (el.type === "radio") { if (el.value === draft[name] && !el.disabled) { el.checked = true; } }
        else if (!el.value) { el.value = draft[name]; }
      });
    });
  }
  // The server's own re-render (after a refused submit) already holds what was typed.
  if (!form.hasAttribute("data-rerendered")) { restoreDraft(); }
  form.addEventListener("input", saveDraft);
  form.addEventListener("change", saveDraft);

  // Category: a group's tile opens its list of plain-word choices.
  function showGroup() {
    var checked = form.querySelector('input[name="group"]:checked');
    var chosen = form.querySelector('input[name="category"]:checked');
    var group = checked ? checked.value : (chosen ? chosen.closest(".leaves").getAttribute("data-group") : "");
    if (!checked && group) { form.querySelector('input[name="group"][value="' + group + '"]').checked = true; }
    Array.prototype.forEach.call(form.querySelectorAll(".leaves"), function (fs) {
      var on = fs.getAttribute("data-group") === group;
      fs.classList.toggle("shown", on);
      if (!on) { Array.prototype.forEach.call(fs.querySelectorAll("input"), function (i) { i.checked = false; }); }
    });
  }
  Array.prototype.forEach.call(form.querySelectorAll('input[name="group"]'), function (el) {
    el.addEventListener("change", showGroup);
  });
  showGroup();

  var lon = document.getElementById("id_lon"), lat = document.getElementById("id_lat");
  function choose(where) { var r = form.querySelector('input[name="where"][value="' + where + '"]'); if (r) { r.checked = true; } }
  function setPoint(lng, la, where) {
    lon.value = lng.toFixed(6); lat.value = la.toFixed(6); choose(where); saveDraft();
  }

  // "Use my location": the browser's geolocation, where it is offered.
  var locate = document.getElementById("use-location"), locStatus = document.getElementById("location-status");
  if (!("geolocation" in navigator)) { locate.hidden = true; }
  locate.addEventListener("click", function () {
    locStatus.textContent = t("locating");
    navigator.geolocation.getCurrentPosition(function (pos) {
      setPoint(pos.coords.longitude, pos.coords.latitude, "here");
      locStatus.textContent = t("located");
    }, function () {
      locStatus.textContent = t("no-location");
    }, { enableHighAccuracy: true, timeout: 15000 });
  });

  // The map loads only when asked for: Leaflet is most of the page's weight.
  var mapButton = document.getElementById("open-map"), mapBox = document.getElementById("map"), map, marker;
  function loadLeaflet(done) {
    if (window.L) { done(); return; }
    var css = document.createElement("link");
    css.rel = "stylesheet"; css.href = form.getAttribute("data-leaflet-css");
    document.head.appendChild(css);
    var js = document.createElement("script");
    js.src = form.getAttribute("data-leaflet-js"); js.onload = done;
    document.head.appendChild(js);
  }
  mapButton.addEventListener("click", function () {
    mapBox.hidden = false; choose("map");
    loadLeaflet(function () {
      if (map) { return; }
      map = L.map(mapBox, { zoomControl: false }).setView([30.02, 120.02], 14);
      L.control.zoom({ zoomInTitle: t("zoom-in"), zoomOutTitle: t("zoom-out") }).addTo(map);
      var tiles = form.getAttribute("data-tiles");
      if (tiles) { L.tileLayer(tiles, { maxZoom: 19 }).addTo(map); }
      fetch(form.getAttribute("data-grids-url"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (page) {
          var nodes = page.items || [];  // the API's page envelope: {items, count, limit, offset}
          var shapes = nodes.filter(function (n) { return n.geometry; }).map(function (n) {
            return { type: "Feature", geometry: n.geometry, properties: { name: n.name } };
          });
          if (!shapes.length) { return; }
          var layer = L.geoJSON(shapes, { style: { color: "#0b5394", weight: 1, fillOpacity: 0.05 } }).addTo(map);
          if (!lon.value) { map.fitBounds(layer.getBounds()); }
        });
      if (lon.value && lat.value) {
        marker = L.marker([+lat.value, +lon.value]).addTo(map); map.setView([+lat.value, +lon.value], 16);
      }
      map.on("click", function (e) {
        if (marker) { marker.setLatLng(e.latlng); } else { marker = L.marker(e.latlng).addTo(map); }
        setPoint(e.latlng.lng, e.latlng.lat, "map");
      });
    });
  });

  // Voice input where the browser offers speech recognition; the button stays hidden elsewhere.
  var Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
  var voice = document.getElementById("voice"), voiceStatus = document.getElementById("voice-status");
  var text = document.getElementById("id_description");
  if (Recognition) {
    voice.hidden = false;
    var rec = new Recognition(), listening = false;
    rec.lang = zh ? "zh-CN" : "en-GB"; rec.interimResults = false;
    rec.onresult = function (e) {
      var said = Array.prototype.map.call(e.results, function (r) { return r[0].transcript; }).join("");
      text.value = (text.value ? text.value + " " : "") + said; saveDraft();
    };
    rec.onend = function () { listening = false; voice.setAttribute("aria-pressed", "false"); voiceStatus.textContent = ""; };
    rec.onerror = function () { voiceStatus.textContent = t("not-heard"); };
    voice.addEventListener("click", function () {
      if (listening) { rec.stop(); return; }
      listening = true; voice.setAttribute("aria-pressed", "true");
      voiceStatus.textContent = t("listening"); rec.start();
    });
  }

  // A second tap while the first is on its way sends nothing new (the server ignores repeats too).
  form.addEventListener("submit", function () {
    var send = document.getElementById("send");
    setTimeout(function () { send.disabled = true; }, 0);
  });
})();
