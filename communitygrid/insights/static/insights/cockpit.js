/* The cockpit's map and charts, drawn from the same JSON API as the tables, refreshed every minute.
   The tables (server-rendered, refreshed by htmx) carry every figure and link; this only draws them. */
(function () {
  "use strict";
  var COLOURS = ["#e8f3ea", "#ffe29a", "#f59f4c", "#c0282d"];
  var labels = JSON.parse(document.getElementById("cockpit-labels").textContent);
  var api = document.getElementById("cockpit-api").dataset;
  var REFRESH_MS = 1000 * (parseInt(api.refresh, 10) || 60);
  var mapBox = document.getElementById("map");
  var map, areaLayer, heatLayer, framed = false, charts = {};

  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}}).then(function (r) {
      if (!r.ok) { throw new Error(url + ": " + r.status); }
      return r.json();
    });
  }

  function pressure(row) { return row.open + 2 * row.overdue + 3 * row.urgent; }

  function drillUrl(code) {
    var url = new URL(window.location.href);
    url.searchParams.set("node", code);
    return url.toString();
  }

  function drawAreas(figure) {
    var max = Math.max.apply(null, figure.rows.map(pressure).concat([1]));
    areaLayer.clearLayers();
    figure.rows.forEach(function (row) {
      var geometry = figure.totals.geometry[row.code];
      if (!geometry) { return; }
      var p = pressure(row);
      var step = p === 0 ? 0 : Math.min(3, 1 + Math.floor(2.999 * p / max));
      var layer = L.geoJSON(geometry, {
        style: {color: "#333", weight: row.overdue ? 3 : 1.5, fillColor: COLOURS[step], fillOpacity: 0.75}
      });
      layer.bindTooltip(row.name + " · " + labels.open + " " + row.open + " · " + labels.overdue + " " + row.overdue +
                        " · " + labels.urgent + " " + row.urgent, {permanent: false, sticky: true});
      if (row.drill) { layer.on("click", function () { window.location.href = drillUrl(row.code); }); }
      layer.addTo(areaLayer);
      var centre = layer.getBounds().getCenter();
      L.tooltip({permanent: true, direction: "center", className: "area-name", interactive: false})
        .setLatLng(centre).setContent(row.name + " " + row.open).addTo(areaLayer);
    });
    if (!framed && areaLayer.getLayers().length) {
      map.fitBounds(L.featureGroup(areaLayer.getLayers().filter(function (l) { return l.getBounds; })).getBounds(),
                    {padding: [12, 12]});
      framed = true;
    }
  }

  function drawHeat(figure) {
    heatLayer.clearLayers();
    figure.rows.forEach(function (cell) {
      L.circleMarker([cell.lat, cell.lon], {radius: Math.min(14, 3 + 2 * Math.sqrt(cell.cases)), stroke: false,
        fillColor: "#0d47a1", fillOpacity: 0.45, interactive: false}).addTo(heatLayer);
    });
  }

  function refreshMap() {
    if (!map) { return; }
    getJSON(mapBox.dataset.areas).then(drawAreas).catch(console.error);
    getJSON(mapBox.dataset.heat).then(drawHeat).catch(console.error);
  }

  function chart(id) {
    if (!charts[id]) { charts[id] = echarts.init(document.getElementById(id), null, {renderer: "canvas"}); }
    return charts[id];
  }

  var base = {textStyle: {fontSize: 13}, grid: {left: 48, right: 16, top: 36, bottom: 28}, animation: false,
              legend: {top: 0}, tooltip: {trigger: "axis"}};

  function refreshCharts() {
    if (typeof echarts === "undefined") { return; }
    getJSON(api.trends).then(function (f) {
      chart("chart-trend").setOption(Object.assign({}, base, {
        xAxis: {type: "category", data: f.rows.map(function (r) { return r.period.slice(5); })},
        yAxis: {type: "value", minInterval: 1},
        series: [{name: labels.submitted, type: "line", data: f.rows.map(function (r) { return r.submitted; }), color: "#0d47a1"},
                 {name: labels.resolved, type: "line", data: f.rows.map(function (r) { return r.resolved; }), color: "#1b7a3a"}]
      }), true);
    }).catch(console.error);
    getJSON(api.tiers).then(function (f) {
      chart("chart-tiers").setOption(Object.assign({}, base, {
        xAxis: {type: "category", data: f.rows.map(function (r) { return r.label; })},
        yAxis: {type: "value", max: 100},
        series: [{name: labels.on_time, type: "bar", data: f.rows.map(function (r) { return r.on_time_response_rate; }),
                  color: "#0d47a1", label: {show: true, position: "top"}}]
      }), true);
    }).catch(console.error);
    getJSON(api.backlog).then(function (f) {
      var rows = f.rows.filter(function (r) { return r.by === "category"; }).slice(0, 8).reverse();
      chart("chart-backlog").setOption(Object.assign({}, base, {
        grid: {left: 8, right: 24, top: 36, bottom: 24, containLabel: true},
        yAxis: {type: "category", data: rows.map(function (r) { return r.label; }),
                axisLabel: {width: 150, overflow: "truncate"}},
        xAxis: {type: "value", minInterval: 1},
        series: [{name: labels.open, type: "bar", stack: "b", data: rows.map(function (r) { return r.open - r.overdue; }), color: "#f59f4c"},
                 {name: labels.overdue, type: "bar", stack: "b", data: rows.map(function (r) { return r.overdue; }), color: "#c0282d"}]
      }), true);
    }).catch(console.error);
  }

  function start() {
    if (typeof L !== "undefined" && mapBox) {
      // No tile layer: closed networks have none; our own polygons are the map.
      map = L.map(mapBox, {zoomSnap: 0.25, attributionControl: false, preferCanvas: true, zoomControl: false});
      // Leaflet's own button titles are English: take the page's words instead.
      L.control.zoom({zoomInTitle: mapBox.dataset.zoomIn, zoomOutTitle: mapBox.dataset.zoomOut}).addTo(map);
      map.setView([30.02, 120.02], 13);
      areaLayer = L.featureGroup().addTo(map);
      heatLayer = L.featureGroup().addTo(map);
    }
    refreshMap();
    refreshCharts();
    window.setInterval(function () { refreshMap(); refreshCharts(); }, REFRESH_MS);
    window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
