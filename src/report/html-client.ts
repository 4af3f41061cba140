// The script the HTML report runs in the browser: it reads the chart specifications
// (html-data.ts, embedded as JSON) and hands each to uPlot, the charting library inlined next to
// it. No drawing of its own: it maps each series' style to uPlot options and nothing else. Plain
// ES2017, no imports, nothing fetched. Each chart's element gets data-drawn once uPlot has drawn
// it (the browser test waits for that), or data-error with the reason if it could not be.
export const CLIENT_SCRIPT = String.raw`(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('mcbench-data').textContent);
  var palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];
  var partColors = { 'socket buffer full': '#d62728', 'backlog': '#ff7f0e', 'interface': '#9467bd', 'unaccounted': '#7f7f7f' };
  function percentOf(x) { return 100 * (1 - 1 / x); }
  function num(v, d) { return v === null || v === undefined || !isFinite(v) ? '-' : Number(v).toFixed(d); }

  function seriesOptions(c, s, k) {
    var color = palette[k % palette.length];
    var o = { label: s.label, stroke: color, width: 2, spanGaps: true, points: { show: c.x.length <= 40 } };
    if (s.style === 'points') {
      o.paths = function () { return null; };
      o.points = { show: true, size: 9, width: 1, fill: color, stroke: color };
    } else if (s.style === 'mean') {
      o.stroke = '#000';
      o.paths = function () { return null; };
      o.points = { show: true, size: 13, width: 2, fill: '#fff', stroke: '#000' };
    } else if (s.style === 'whisker') {
      o.stroke = '#000';
      o.spanGaps = false;
      o.points = { show: true, size: 5, fill: '#000', stroke: '#000' };
    } else if (s.style === 'bars') {
      color = partColors[s.label] || color;
      o.stroke = color;
      o.fill = color;
      o.width = 1;
      o.paths = uPlot.paths.bars({ size: [0.5, 80] });
      o.points = { show: false };
    } else if (s.style === 'shade') {
      o.stroke = 'rgba(214, 39, 40, 0.5)';
      o.fill = 'rgba(214, 39, 40, 0.15)';
      o.width = 1;
      o.spanGaps = false;
      o.points = { show: false };
    }
    if (s.shown) {
      o.value = function (u, v, si, i) { return i === null || i === undefined ? '' : (s.shown[i] || ''); };
    } else {
      o.value = function (u, v) { return num(v, 3); };
    }
    return o;
  }

  function chartOptions(c, el) {
    var width = Math.max(320, Math.min(960, (el.clientWidth || 960) - 8));
    var xAxis = { label: c.xLabel, stroke: '#333', grid: { stroke: '#e5e5e5' } };
    if (c.xTicks) {
      xAxis.splits = function () { return c.xTicks.map(function (t) { return t.value; }); };
      // a log axis labels only powers of 10 by default; these ticks are chosen (p50 is at 2)
      xAxis.filter = function (u, splits) { return splits; };
      // a log axis hands back its splits through a log/exp round trip: match them within 1e-6
      xAxis.values = function (u, splits) {
        return splits.map(function (v) {
          var t = c.xTicks.find(function (x) { return Math.abs(x.value - v) <= 1e-6 * Math.max(1, Math.abs(x.value)); });
          return t ? t.label : '';
        });
      };
    }
    var xScale = { time: false, auto: false };
    // a function: uPlot snaps a log scale's fixed range to the data otherwise
    if (c.xLog) { xScale.distr = 3; xScale.log = 10; xScale.range = function () { return [1.8, 1.2e5]; }; }
    else if (c.xRange) { xScale.range = function () { return c.xRange; }; }
    else { xScale.auto = true; }
    var xValue = c.xLog
      ? function (u, v) { return v === null || v === undefined ? '' : num(percentOf(v), 3) + '%'; }
      : c.xTicks
        ? function (u, v) { if (v === null || v === undefined) return ''; var best = c.xTicks.reduce(function (a, t) { return Math.abs(t.value - v) < Math.abs(a.value - v) ? t : a; }); return best.label; }
        : function (u, v) { return num(v, 2); };
    return {
      title: c.title,
      width: width,
      height: 320,
      scales: { x: xScale, y: { range: function (u, min, max) { var hi = max > 0 ? max * 1.08 : 1; return [Math.min(0, min), hi]; } } },
      axes: [xAxis, { label: c.yLabel, stroke: '#333', grid: { stroke: '#e5e5e5' }, size: 70 }],
      series: [{ label: c.xLabel, value: xValue }].concat(c.series.map(function (s, k) { return seriesOptions(c, s, k); })),
      legend: { live: true },
      cursor: { points: { show: false } },
      hooks: { draw: [function () { el.setAttribute('data-drawn', 'yes'); }] }
    };
  }

  data.charts.forEach(function (c, idx) {
    var el = document.querySelector('[data-chart="' + idx + '"]');
    if (!el) return;
    try {
      var series = [c.x].concat(c.series.map(function (s) { return s.values; }));
      new uPlot(chartOptions(c, el), series, el);
    } catch (e) {
      el.setAttribute('data-error', String(e && e.message || e));
      el.textContent = 'this chart could not be drawn: ' + String(e && e.message || e);
      throw e;
    }
  });
})();
`;
