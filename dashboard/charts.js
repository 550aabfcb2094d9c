// The overview's uPlot charts: processed/failed per interval and queue depth over time.
import uPlot from '/sidekiq/vendor/uplot.js';
import { state } from './state.js';

const PALETTE = ['#2563eb', '#b1003e', '#15803d', '#a16207', '#7c3aed', '#0f766e', '#be185d'];
// counts never go below zero; keep 0 on the axis so small numbers do not look dramatic
const fromZero = { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] };

function throughputData(history) {
  const xs = history.points.map((p) => Date.parse(p.at) / 1000);
  return [xs, history.points.map((p) => p.throughput), history.points.map((p) => p.failures)];
}

function depthData(history, names) {
  const xs = history.points.map((p) => Date.parse(p.at) / 1000);
  return [
    xs,
    ...names.map((name) => {
      const sizes = new Map(
        (history.queues[name] ?? []).map((p) => [Date.parse(p.at) / 1000, p.size]),
      );
      return xs.map((x) => sizes.get(x) ?? null);
    }),
  ];
}

/** Draws both charts; state.charts holds them so a new route destroys them. */
export function drawCharts(history, throughputEl, depthEl) {
  const size = () => ({ width: Math.max(280, throughputEl.clientWidth - 16), height: 220 });
  const common = { ...size(), scales: { x: { time: true }, y: fromZero } };
  const throughput = new uPlot(
    {
      ...common,
      series: [
        {},
        { label: 'processed', stroke: '#15803d', fill: 'rgba(21,128,61,0.10)', width: 2 },
        { label: 'failed', stroke: '#b91c1c', fill: 'rgba(185,28,28,0.10)', width: 2 },
      ],
    },
    throughputData(history),
    throughputEl,
  );
  let names = Object.keys(history.queues).sort();
  const depthOptions = (list) => ({
    ...common,
    ...size(),
    series: [
      {},
      ...list.map((name, i) => ({ label: name, stroke: PALETTE[i % PALETTE.length], width: 2 })),
    ],
  });
  let depth = new uPlot(depthOptions(names), depthData(history, names), depthEl);
  state.charts.push(throughput, depth);
  const onResize = () => {
    throughput.setSize(size());
    depth.setSize(size());
  };
  window.addEventListener('resize', onResize);
  state.charts.push({ destroy: () => window.removeEventListener('resize', onResize) });
  return {
    update(fresh) {
      throughput.setData(throughputData(fresh));
      const freshNames = Object.keys(fresh.queues).sort();
      if (freshNames.join('\n') === names.join('\n')) {
        depth.setData(depthData(fresh, names));
        return;
      }
      // a queue appeared or went: new series, so a new chart
      names = freshNames;
      state.charts = state.charts.filter((c) => c !== depth);
      depth.destroy();
      depth = new uPlot(depthOptions(names), depthData(fresh, names), depthEl);
      state.charts.push(depth);
    },
  };
}

/** Processed and failed per bucket (the Metrics page); state.charts holds it for the router. */
export function drawCounts(el, points) {
  const size = () => ({ width: Math.max(280, el.clientWidth - 16), height: 220 });
  const chart = new uPlot(
    {
      ...size(),
      scales: { x: { time: true }, y: fromZero },
      series: [
        {},
        { label: 'processed', stroke: '#15803d', fill: 'rgba(21,128,61,0.10)', width: 2 },
        { label: 'failed', stroke: '#b91c1c', fill: 'rgba(185,28,28,0.10)', width: 2 },
      ],
    },
    [
      points.map((p) => Date.parse(p.at) / 1000),
      points.map((p) => p.processed),
      points.map((p) => p.failed),
    ],
    el,
  );
  const onResize = () => chart.setSize(size());
  window.addEventListener('resize', onResize);
  state.charts.push(chart, { destroy: () => window.removeEventListener('resize', onResize) });
}

const SVG = 'http://www.w3.org/2000/svg';

/** A small line of counts (an SVG polyline, no axes): a failure fingerprint's trend. */
export function sparkline(counts, { width = 160, height = 28 } = {}) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('class', 'sparkline');
  const max = Math.max(1, ...counts);
  const step = counts.length > 1 ? width / (counts.length - 1) : width;
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute(
    'points',
    counts
      .map(
        (c, i) => `${(i * step).toFixed(1)},${(height - 2 - (c / max) * (height - 4)).toFixed(1)}`,
      )
      .join(' '),
  );
  svg.append(line);
  const title = document.createElementNS(SVG, 'title');
  title.textContent = `${counts.reduce((a, b) => a + b, 0)} in ${counts.length} h, at most ${max} an hour`;
  svg.append(title);
  return svg;
}
