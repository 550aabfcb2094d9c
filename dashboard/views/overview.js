// #/overview: Sidekiq's counters, the history charts and the queues with their time to drain;
// refreshed live every few seconds.
import { api } from '../api.js';
import { drawCharts } from '../charts.js';
import { duration, fmt, h, table } from '../dom.js';
import { REFRESH_MS, render, sk, state } from '../state.js';

const STAT_TILES = [
  ['processed', 'Processed'],
  ['failed', 'Failed'],
  ['workers_size', 'Busy'],
  ['enqueued', 'Enqueued'],
  ['scheduled_size', 'Scheduled'],
  ['retry_size', 'Retries'],
  ['dead_size', 'Dead'],
  ['processes_size', 'Processes'],
];

const RANGES = { '1h': [3600, 'minute'], '24h': [86400, 'hour'], '7d': [7 * 86400, 'hour'] };

function loadOverview() {
  const range = sessionStorage.getItem('range') ?? '1h';
  const [seconds, resolution] = RANGES[range] ?? RANGES['1h'];
  const from = new Date(Date.now() - seconds * 1000).toISOString();
  return Promise.all([
    api(sk('/api/v1/sidekiq/stats')),
    api(sk(`/api/v1/stats/history?resolution=${resolution}&from=${encodeURIComponent(from)}`)),
    api(sk('/api/v1/sidekiq/queues')),
  ]);
}

export async function overview() {
  const range = sessionStorage.getItem('range') ?? '1h';
  const [stats, history, queueList] = await loadOverview();
  const tiles = h(
    'div',
    { class: 'tiles' },
    STAT_TILES.map(([key, label]) =>
      h(
        'div',
        { class: `tile ${key}` },
        h('div', { class: 'value', dataset: { stat: key } }, fmt(stats[key])),
        h('div', { class: 'label' }, label),
      ),
    ),
  );
  const rangeSelect = h(
    'select',
    {
      id: 'range',
      onchange: (e) => {
        sessionStorage.setItem('range', e.target.value);
        void render();
      },
    },
    Object.keys(RANGES).map((r) => h('option', { value: r, selected: r === range }, `last ${r}`)),
  );
  const liveLabel = () => (state.paused ? 'Resume live updates' : 'Pause live updates');
  const pause = h(
    'button',
    {
      type: 'button',
      id: 'pause',
      onclick: () => {
        state.paused = !state.paused;
        pause.textContent = liveLabel();
        live.textContent = state.paused ? 'paused' : `live, every ${REFRESH_MS / 1000} s`;
      },
    },
    liveLabel(),
  );
  const live = h(
    'span',
    { class: 'muted', id: 'live' },
    state.paused ? 'paused' : `live, every ${REFRESH_MS / 1000} s`,
  );
  const queueSummary = h('div', { class: 'overview-queues' }, queueTable(queueList, history));
  const throughput = h('div', { class: 'chart', id: 'chart-throughput' });
  const depth = h('div', { class: 'chart', id: 'chart-queues' });
  const root = h(
    'div',
    {},
    h('h1', {}, 'Overview'),
    tiles,
    h('div', { class: 'toolbar' }, rangeSelect, pause, live),
    h(
      'div',
      { class: 'charts' },
      h('section', {}, h('h2', {}, 'Processed and failed per interval'), throughput),
      h('section', {}, h('h2', {}, 'Queue depth'), depth),
    ),
    h('h2', {}, 'Queues'),
    queueSummary,
  );
  root.addEventListener('attached', () => {
    const charts = drawCharts(history, throughput, depth);
    state.timer = setInterval(async () => {
      if (state.paused || document.hidden) {
        return;
      }
      try {
        const [fresh, freshHistory, freshQueues] = await loadOverview();
        if (!root.isConnected) {
          return; // the page moved on while this was on its way
        }
        queueSummary.replaceChildren(queueTable(freshQueues, freshHistory));
        for (const [key] of STAT_TILES) {
          const el = root.querySelector(`[data-stat="${key}"]`);
          if (el) {
            el.textContent = fmt(fresh[key]);
          }
        }
        charts.update(freshHistory);
      } catch {
        // shown on the next full render
      }
    }, REFRESH_MS);
  });
  return root;
}

function queueTable(list, history) {
  return table(
    [
      'Queue',
      h('th', { class: 'num' }, 'Size'),
      h('th', { class: 'num' }, 'Latency'),
      'Time to drain',
    ],
    [...list]
      .sort((a, b) => b.size - a.size || a.name.localeCompare(b.name))
      .map((q) => {
        const drain = history.drain?.[q.name];
        return h(
          'tr',
          { dataset: { summary: q.name } },
          h('td', {}, h('a', { href: `#/queues/${encodeURIComponent(q.name)}` }, q.name)),
          h('td', { class: 'num' }, fmt(q.size)),
          h('td', { class: 'num' }, duration(q.latency)),
          h(
            'td',
            {},
            q.size === 0
              ? 'empty'
              : drain?.eta_seconds
                ? duration(drain.eta_seconds)
                : 'not shrinking',
          ),
        );
      }),
  );
}
