// The reports page's charts, drawn by Chart.js (vendored: webclient/static/vendor/chartjs/; reports.html loads its
// UMD build, deferred before this module, and it sets globalThis.Chart). Each canvas keeps one chart, replaced when
// the report changes. No animation: a report is read, not watched, and a test sees the finished drawing.

import {
  ahtMs, awayStep, awayTick, fmtMs, fmtRatio, hasFigures, intervalLabel, rankMetric, slThreshold, starts, sumPoints,
  topKeys, weightedPoints,
} from './reports_query.js';

const Chart = globalThis.Chart;

// Distinct hues, each at least 3:1 against white (WCAG non-text contrast).
const PALETTE = ['#2456d3', '#c2352b', '#15803d', '#b45309', '#7c3aed', '#0e7490', '#be185d', '#4d7c0f', '#475569', '#9a3412'];
const MAX_LINES = 8; // more series than this: the busiest, the table has all

const charts = new Map(); // canvas -> Chart

function draw(canvas, config) {
  const old = charts.get(canvas);
  if (old) old.destroy();
  charts.set(canvas, new Chart(canvas, config));
}

export function clearChart(canvas) {
  const old = charts.get(canvas);
  if (old) old.destroy();
  charts.delete(canvas);
}

function options({ y, stacked = false }) {
  const tick = y.tick || y.format;
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: 'index', intersect: false },
    plugins: {
      legend: { position: 'bottom', labels: { boxWidth: 12, color: '#3d4856' } },
      tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${y.format(c.parsed.y)}` } },
    },
    scales: {
      x: { stacked, ticks: { color: '#5f6a78', maxRotation: 0, autoSkip: true }, grid: { display: false } },
      y: {
        stacked,
        beginAtZero: true,
        suggestedMax: y.max,
        ticks: { color: '#5f6a78', precision: y.precision, stepSize: y.step, callback: (v) => tick(v) },
      },
    },
  };
}

function line(label, data, i, dashed = false, wide = false) {
  const color = PALETTE[i % PALETTE.length];
  return {
    label, data, borderColor: color, backgroundColor: color, borderWidth: wide ? 5 : 2,
    pointRadius: data.length > 60 ? 0 : wide ? 4 : 2, borderDash: dashed ? [6, 4] : undefined, spanGaps: true,
    tension: 0, order: wide ? 1 : 0, // (Chart.js draws a higher order first: a wide line goes under the others)
  };
}

const COUNT = { format: (v) => String(v), precision: 0 };
const SECONDS = { format: (v) => (v == null ? '—' : fmtMs(v)), tick: (v) => (v < 1000 ? `${v} ms` : `${Math.round(v / 100) / 10} s`) };
const PERCENT = { format: (v) => (v == null ? '—' : fmtRatio(v)), max: 1 };

/** What the subtitle of a chart says about the series drawn. */
function across(report, keys) {
  const noun = report.by === 'agent' ? 'agent' : 'queue';
  if (report.series.length === 1) return `${noun} ${report.series[0].key}`;
  if (keys && keys.length < report.series.length) return `the ${keys.length} busiest of ${report.series.length} ${noun}s`;
  return `all ${report.series.length} ${noun}s`;
}

/** Offered / handled / abandoned (summed over the queues or agents), service level per queue or agent (the
 * busiest), ASA and AHT (averaged over the queues or agents, weighted by contacts handled). Returns the subtitles. */
export function drawMetrics(report, canvases) {
  const labels = starts(report).map((s) => intervalLabel(s, report.interval));
  const series = report.series;
  draw(canvases.volume, {
    type: 'line',
    data: {
      labels,
      datasets: [
        // offered drawn wide under a dashed handled: when every contact was handled the two still both show
        // by agent there are no offered or abandoned figures (counted per queue only): no line, not a line at 0
        ...(hasFigures(series, 'offered') ? [line('Offered', sumPoints(series, 'offered'), 0, false, true)] : []),
        line('Handled', sumPoints(series, 'handled'), 2, true),
        ...(hasFigures(series, 'abandoned') ? [line('Abandoned', sumPoints(series, 'abandoned'), 1)] : []),
      ],
    },
    options: options({ y: COUNT }),
  });
  const keys = topKeys(report.totals, rankMetric(report.by), MAX_LINES);
  const byKey = new Map(series.map((s) => [s.key, s]));
  draw(canvases.service_level, {
    type: 'line',
    data: {
      labels,
      datasets: keys.map((k, i) => line(k, byKey.get(k).points.map((p) => p.service_level), i)),
    },
    options: options({ y: PERCENT }),
  });
  draw(canvases.speed, {
    type: 'line',
    data: {
      labels,
      datasets: [
        line('Avg speed of answer', weightedPoints(series, 'handled', (p) => p.asa_ms), 0),
        line('Avg call handle time (talk + hold + wrap-up)', weightedPoints(series, 'call_segments', ahtMs), 3, true),
      ],
    },
    options: options({ y: SECONDS }),
  });
  const all = across(report);
  return {
    volume: hasFigures(series, 'offered') ? `(${all})` : `(${all}; handled only: offered and abandoned are counted per queue)`,
    service_level: `(${slThreshold(report).long}; ${across(report, keys)})`,
    speed: `(${all}; answer weighted by contacts handled, handle time by call segments)`,
  };
}

/** One stacked bar per interval, a segment per key of `report` (the keys with the most `metric`, as many as there
 * are colours; `label(key)` names a segment). */
function stackedBars(report, canvas, metric, label, y) {
  const labels = starts(report).map((s) => intervalLabel(s, report.interval));
  const keys = topKeys(report.totals, metric, PALETTE.length);
  const byKey = new Map(report.series.map((s) => [s.key, s]));
  draw(canvas, {
    type: 'bar',
    data: {
      labels,
      datasets: keys.map((k, i) => ({
        label: label(k), data: byKey.get(k).points.map((p) => p[metric] || 0),
        backgroundColor: PALETTE[i % PALETTE.length], stack: metric, maxBarThickness: 56,
      })),
    },
    options: options({ y, stacked: true }),
  });
}

/** Closed conversations per interval, one stacked bar segment per disposition (a report by disposition).
 * Returns false, drawing nothing, when nothing was closed: empty axes would say nothing (the page says so in words). */
export function drawDispositions(report, canvas, labelOf = (code) => code) {
  if (!report.totals.some((t) => t.closed)) {
    clearChart(canvas);
    return false;
  }
  stackedBars(report, canvas, 'closed', labelOf, COUNT);
  return true;
}


/** Agents' away time per interval, one stacked bar segment per reason in words (`labelOf(code)`; a report by away
 * reason). Returns false, drawing nothing, when no agent was away. */
export function drawAwayReasons(report, canvas, labelOf) {
  if (!report.totals.some((t) => t.time_away_ms)) {
    clearChart(canvas);
    return false;
  }
  const highest = Math.max(0, ...sumPoints(report.series, 'time_away_ms'));
  const y = { format: (v) => (v == null ? '—' : fmtMs(v)), tick: awayTick, step: awayStep(highest) };
  stackedBars(report, canvas, 'time_away_ms', labelOf, y);
  return true;
}
