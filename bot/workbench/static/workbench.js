// 社区工作台: live board (server-sent events), charts (vendored ECharts), print buttons.
// Plain JS, no build step, no inline scripts or styles (the pages run under a strict CSP).
"use strict";

(function () {
  window.workbenchRefreshes = 0;

  function liveBoard() {
    var board = document.getElementById("board");
    if (!board || !board.dataset.live || !window.EventSource) return;
    var busy = false;
    function refresh() {
      if (busy) return;
      busy = true;
      fetch(window.location.href, { headers: { "X-Partial": "1" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html !== null) { board.innerHTML = html; window.workbenchRefreshes += 1; }
        })
        .finally(function () { busy = false; });
    }
    var source = new EventSource(board.dataset.live);
    source.addEventListener("changed", refresh);
    window.setInterval(refresh, 60000); // time left to each deadline moves on
  }

  var COLORS = ["#0b4f9c", "#e07b00", "#0a6b2a", "#8e44ad", "#c0392b", "#16a085"];

  function chartOption(spec) {
    var axis = [{ type: "value", max: spec.max }];
    var series = spec.series.map(function (s, i) {
      var out = { name: s.name, data: s.data, connectNulls: true };
      if (spec.kind === "stack") { out.type = "bar"; out.stack = "total"; }
      else if (spec.kind === "bar-line" && i === 0) { out.type = "bar"; }
      else if (spec.kind === "bar-line") { out.type = "line"; out.yAxisIndex = 1; }
      else { out.type = "line"; }
      return out;
    });
    if (spec.kind === "bar-line") axis.push({ type: "value", name: "分钟" });
    if (spec.target) {
      var onto = series[spec.kind === "bar-line" ? 1 : 0];
      onto.markLine = {
        symbol: "none",
        lineStyle: { type: "dashed", color: "#b00020", width: 2 },
        label: { formatter: spec.target.name, position: "insideEndTop", color: "#b00020" },
        data: [{ yAxis: spec.target.value }]
      };
    }
    return {
      color: COLORS,
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 48, right: spec.kind === "bar-line" ? 48 : 24, top: 36, bottom: 28 },
      xAxis: { type: "category", data: spec.x },
      yAxis: axis,
      series: series
    };
  }

  function charts() {
    var nodes = document.querySelectorAll(".chart[data-chart]");
    if (!nodes.length || !window.echarts) return;
    var made = [];
    nodes.forEach(function (node) {
      var chart = window.echarts.init(node, null, { renderer: "canvas" });
      chart.setOption(chartOption(JSON.parse(node.dataset.chart)));
      made.push(chart);
    });
    window.addEventListener("resize", function () { made.forEach(function (c) { c.resize(); }); });
    window.workbenchCharts = made.length;
  }

  function printButtons() {
    document.querySelectorAll("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    liveBoard();
    charts();
    printButtons();
    window.workbenchReady = true;
  });
})();
