/* This file is part of the DMS project.  The COPYRIGHT file at the top
 * level of this repository contains the full copyright notices and license
 * terms.
 *
 * The charts of the sales page, drawn from its tables with chart.js (the
 * UMD global Chart, /portal/static/vendor/chart.js).  Progressive
 * enhancement: without chart.js (or without JavaScript) the tables stay
 * the page; with it, a chart is drawn above each table marked data-chart,
 * its series being the header cells marked data-series and its values the
 * data-value of their cells. */
(function () {
  'use strict';
  var COLOURS = ['#1f5fa8', '#e07b00', '#2e8b57', '#b03a48'];

  function draw(table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head || !table.tBodies.length) {
      return;
    }
    var body = table.tBodies[0];
    if (!body.rows.length) {
      return;
    }
    var series = [];
    Array.prototype.forEach.call(head.cells, function (cell, index) {
      if (cell.hasAttribute('data-series')) {
        series.push({index: index, label: cell.textContent.trim()});
      }
    });
    var labels = [];
    var datasets = series.map(function (s, i) {
      return {label: s.label, data: [],
        backgroundColor: COLOURS[i % COLOURS.length]};
    });
    Array.prototype.forEach.call(body.rows, function (row) {
      labels.push(row.cells[0].textContent.trim());
      series.forEach(function (s, i) {
        var value = parseFloat(row.cells[s.index].getAttribute('data-value'));
        datasets[i].data.push(isNaN(value) ? 0 : value);
      });
    });
    var box = document.createElement('div');
    box.className = 'chart-box';
    var horizontal = table.getAttribute('data-horizontal') === '1';
    if (horizontal) {
      box.style.height = Math.max(220, 28 * labels.length + 60) + 'px';
    }
    var canvas = document.createElement('canvas');
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', datasets.map(function (d) {
      return d.label;
    }).join(', '));
    box.appendChild(canvas);
    var wrap = table.closest('.table-wrap') || table;
    wrap.parentNode.insertBefore(box, wrap);
    try {
      new window.Chart(canvas, {
        type: table.getAttribute('data-chart') || 'bar',
        data: {labels: labels, datasets: datasets},
        options: {
          responsive: true,
          maintainAspectRatio: false,
          indexAxis: horizontal ? 'y' : 'x',
          plugins: {legend: {position: 'bottom'}},
        },
      });
    } catch (e) {
      // the table is still there
      box.parentNode.removeChild(box);
    }
  }

  function start() {
    if (typeof window.Chart !== 'function') {
      return;
    }
    Array.prototype.forEach.call(
      document.querySelectorAll('table[data-chart]'), draw);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());
