// The /sidekiq dashboard: plain browser modules on top of the service's own REST API. The token
// lives in sessionStorage (this tab only) and travels in the PRIVATE-TOKEN header, never in a URL.
// Every piece of data reaches the page through textContent (no innerHTML).
import uPlot from '/sidekiq/vendor/uplot.js';

const TOKEN_KEY = 'sidekiq-supervisor-token';
const REFRESH_MS = 5000;
const PER_PAGE = 25;

const state = {
  me: null,
  instances: ['default'],
  readOnly: false,
  timer: null,
  renders: 0,
  paused: false,
  charts: [],
};

// ---------- small helpers ----------

/** Element with attributes (on* as listeners) and children (strings become text nodes). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (key.startsWith('on')) {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      el.append(child instanceof Node ? child : String(child));
    }
  }
  return el;
}

const $ = (id) => document.getElementById(id);
const fmt = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US'));
const isAdmin = () => state.me?.scopes.includes('admin') ?? false;
const time = (value) => {
  if (value === null || value === undefined) {
    return '—';
  }
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  return date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
};
const instance = () => sessionStorage.getItem('instance') ?? state.instances[0];
/** `path` for the selected Sidekiq instance (the default one needs no parameter). */
const sk = (path) =>
  instance() === state.instances[0]
    ? path
    : `${path}${path.includes('?') ? '&' : '?'}instance=${encodeURIComponent(instance())}`;
/** Link to our job page; `inst` picks the row when a jid is known in several instances. */
const jobLink = (jid, inst) =>
  jid
    ? h(
        'a',
        {
          href: `#/jobs/${encodeURIComponent(jid)}${inst ? `/${encodeURIComponent(inst)}` : ''}`,
        },
        jid,
      )
    : '—';
const sidekiqJobLink = (jid) => jobLink(jid, state.instances.length > 1 ? instance() : undefined);

function flash(message, ok = false) {
  const el = $('flash');
  el.textContent = message;
  el.className = ok ? 'flash ok' : 'flash';
  el.hidden = !message;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

// display_args_json is the exact text (the browser's JSON reader rounds integers beyond 2^53
// and writes 3.0 as 3); display_args only for a server that does not send it
const argsText = (job) => job.display_args_json ?? JSON.stringify(job.display_args);

async function api(path, { method = 'GET', body } = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = { 'PRIVATE-TOKEN': token ?? '' };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  if (res.status === 401) {
    signOut('Your token is not valid (any more); sign in again.');
    throw new ApiError(401, data);
  }
  if (!res.ok) {
    throw new ApiError(res.status, data);
  }
  return data;
}

/** Runs an admin action, reports its outcome, then redraws the current view. */
async function act(label, path, method = 'POST', body = undefined) {
  try {
    await api(sk(path), { method, body });
    flash(`${label}: done`, true);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      return; // signed out already
    }
    flash(`${label}: ${error.message}`);
  }
  await render();
}

const actionButton = (label, action, path, opts = {}) =>
  isAdmin()
    ? h(
        'button',
        {
          type: 'button',
          class: opts.danger ? 'danger' : undefined,
          dataset: { action },
          onclick: () => {
            // a bulk change asked for here is confirmed to the API too (it refuses one without)
            if (!opts.confirm) {
              void act(label, path, opts.method);
            } else if (window.confirm(opts.confirm)) {
              void act(label, path, opts.method, { confirm: true });
            }
          },
        },
        label,
      )
    : null;

function table(headers, rows) {
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((t) => (t instanceof HTMLTableCellElement ? t : h('th', {}, t))),
      ),
    ),
    h(
      'tbody',
      {},
      rows.length ? rows : h('tr', {}, h('td', { colspan: headers.length }, 'Nothing here.')),
    ),
  );
}

function pager(page, size, go) {
  const pages = Math.max(1, Math.ceil(size / PER_PAGE));
  return h(
    'div',
    { class: 'toolbar' },
    h('button', { type: 'button', disabled: page <= 1, onclick: () => go(page - 1) }, '‹ Newer'),
    h('span', { class: 'muted' }, `page ${page} of ${pages} (${fmt(size)})`),
    h(
      'button',
      { type: 'button', disabled: page >= pages, onclick: () => go(page + 1) },
      'Older ›',
    ),
  );
}

// ---------- routing ----------

function route() {
  const [name = 'overview', ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  return { name, arg: rest.map(decodeURIComponent).join('/') };
}

function stopTimers() {
  clearInterval(state.timer);
  state.timer = null;
  for (const chart of state.charts) {
    chart.destroy();
  }
  state.charts = [];
}

async function render() {
  stopTimers();
  // only the latest navigation may draw: an older, slower answer must not replace it
  const seq = ++state.renders;
  const { name, arg } = route();
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.getAttribute('href') === `#/${name}`);
  }
  const view = $('view');
  try {
    const views = {
      overview,
      queues,
      scheduled: sortedSet,
      retry: sortedSet,
      dead: sortedSet,
      busy,
      jobs,
    };
    const draw = views[name] ?? overview;
    const content = await draw(arg, name);
    if (seq !== state.renders || !state.me) {
      return;
    }
    view.replaceChildren(content);
    content.dispatchEvent(new Event('attached'));
  } catch (error) {
    if (seq === state.renders && !(error instanceof ApiError && error.status === 401)) {
      view.replaceChildren(h('p', { class: 'flash' }, `Could not load: ${error.message}`));
    }
  }
}

// ---------- views ----------

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

async function overview() {
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

/** Seconds as "45 s", "12 min", "3.5 h". */
function duration(seconds) {
  if (seconds === null || seconds === undefined) {
    return '—';
  }
  if (seconds < 90) {
    return `${Math.round(seconds)} s`;
  }
  if (seconds < 5400) {
    return `${Math.round(seconds / 60)} min`;
  }
  return `${(seconds / 3600).toFixed(1)} h`;
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

function drawCharts(history, throughputEl, depthEl) {
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

async function queues(arg) {
  if (arg) {
    return queuePage(arg, Number(sessionStorage.getItem(`page:q:${arg}`) ?? 1));
  }
  const list = await api(sk('/api/v1/sidekiq/queues'));
  return h(
    'div',
    {},
    h('h1', {}, 'Queues'),
    table(
      ['Queue', 'Size', 'Latency (s)', ''],
      list.map((q) =>
        h(
          'tr',
          { dataset: { queue: q.name } },
          h('td', {}, h('a', { href: `#/queues/${encodeURIComponent(q.name)}` }, q.name)),
          h('td', {}, fmt(q.size)),
          h('td', {}, q.latency.toFixed(2)),
          h(
            'td',
            {},
            actionButton(
              'Clear',
              'clear',
              `/api/v1/sidekiq/queues/${encodeURIComponent(q.name)}/clear`,
              {
                danger: true,
                confirm: `Delete every job in ${q.name}?`,
              },
            ),
          ),
        ),
      ),
    ),
  );
}

async function queuePage(name, page) {
  const data = await api(
    sk(`/api/v1/sidekiq/queues/${encodeURIComponent(name)}?page=${page}&per_page=${PER_PAGE}`),
  );
  const go = (p) => {
    sessionStorage.setItem(`page:q:${name}`, String(p));
    void render();
  };
  return h(
    'div',
    {},
    h('h1', {}, `Queue ${name}`),
    h('p', { class: 'muted' }, `${fmt(data.size)} jobs, latency ${data.latency.toFixed(2)} s`),
    table(
      ['Job', 'Class', 'Arguments', 'Enqueued', ''],
      data.jobs.map((job) =>
        h(
          'tr',
          { dataset: { jid: job.jid ?? '' } },
          h('td', {}, sidekiqJobLink(job.jid)),
          h('td', {}, job.display_class ?? '—'),
          h('td', { class: 'args' }, argsText(job)),
          h('td', {}, time(job.enqueued_at)),
          h(
            'td',
            {},
            job.jid
              ? actionButton(
                  'Delete',
                  'delete',
                  `/api/v1/sidekiq/queues/${encodeURIComponent(name)}/jobs/${encodeURIComponent(job.jid)}`,
                  { method: 'DELETE', danger: true },
                )
              : null,
          ),
        ),
      ),
    ),
    pager(page, data.size, go),
  );
}

const SET_ACTIONS = {
  scheduled: [
    ['Add to queue', 'add-to-queue'],
    ['Delete', 'delete'],
  ],
  retry: [
    ['Retry now', 'retry'],
    ['Kill', 'kill'],
    ['Delete', 'delete'],
  ],
  dead: [
    ['Retry now', 'retry'],
    ['Delete', 'delete'],
  ],
};
const SET_BULK = {
  scheduled: [['Delete all', 'clear']],
  retry: [
    ['Retry all', 'retry-all'],
    ['Kill all', 'kill-all'],
    ['Delete all', 'clear'],
  ],
  dead: [
    ['Retry all', 'retry-all'],
    ['Delete all', 'clear'],
  ],
};
const SET_TITLES = { scheduled: 'Scheduled', retry: 'Retries', dead: 'Dead' };

async function sortedSet(_arg, set) {
  const page = Number(sessionStorage.getItem(`page:${set}`) ?? 1);
  const search = sessionStorage.getItem(`search:${set}`) ?? '';
  const query = new URLSearchParams({ page: String(page), per_page: String(PER_PAGE) });
  if (search) {
    query.set('search', search);
  }
  const data = await api(sk(`/api/v1/sidekiq/sets/${set}?${query}`));
  const base = `/api/v1/sidekiq/sets/${set}`;
  const searchBox = h('input', {
    id: 'search',
    type: 'search',
    placeholder: 'Search',
    value: search,
  });
  const form = h(
    'form',
    {
      class: 'toolbar',
      onsubmit: (e) => {
        e.preventDefault();
        sessionStorage.setItem(`search:${set}`, searchBox.value);
        sessionStorage.setItem(`page:${set}`, '1');
        void render();
      },
    },
    searchBox,
    h('button', { type: 'submit' }, 'Search'),
    SET_BULK[set].map(([label, action]) =>
      actionButton(label, action, `${base}/${action}`, {
        danger: action !== 'retry-all',
        confirm: `${label} in ${SET_TITLES[set].toLowerCase()}?`,
      }),
    ),
  );
  const when = set === 'scheduled' ? 'Runs at' : set === 'retry' ? 'Next retry' : 'Died at';
  return h(
    'div',
    {},
    h('h1', {}, SET_TITLES[set]),
    form,
    data.truncated ? h('p', { class: 'muted' }, 'The search stopped early; refine it.') : null,
    table(
      [when, 'Job', 'Class', 'Arguments', set === 'scheduled' ? 'Queue' : 'Error', ''],
      data.entries.map((entry) => {
        const jobPath = `${base}/jobs/${encodeURIComponent(entry.jid ?? '')}?score=${entry.score}`;
        const [path, qs] = jobPath.split('?');
        return h(
          'tr',
          { dataset: { jid: entry.jid ?? '' } },
          h('td', {}, time(entry.score)),
          h('td', {}, sidekiqJobLink(entry.jid)),
          h('td', {}, entry.display_class ?? '—'),
          h('td', { class: 'args' }, argsText(entry)),
          h(
            'td',
            {},
            set === 'scheduled'
              ? (entry.queue ?? '—')
              : `${entry.error_class ?? ''}: ${entry.error_message ?? ''}`,
          ),
          h(
            'td',
            {},
            entry.jid
              ? SET_ACTIONS[set].map(([label, action]) =>
                  actionButton(
                    label,
                    action,
                    action === 'delete' ? `${path}?${qs}` : `${path}/${action}?${qs}`,
                    {
                      method: action === 'delete' ? 'DELETE' : 'POST',
                      danger: action !== 'retry' && action !== 'add-to-queue',
                    },
                  ),
                )
              : null,
          ),
        );
      }),
    ),
    pager(page, data.size, (p) => {
      sessionStorage.setItem(`page:${set}`, String(p));
      void render();
    }),
  );
}

async function busy() {
  const [processes, workers] = await Promise.all([
    api(sk('/api/v1/sidekiq/processes')),
    api(sk('/api/v1/sidekiq/workers')),
  ]);
  const id = (p) => encodeURIComponent(p.identity);
  return h(
    'div',
    {},
    h('h1', {}, 'Busy'),
    h('h2', {}, 'Processes'),
    table(
      ['Process', 'Started', 'Threads', 'Busy', 'Queues', 'State', ''],
      processes.map((p) =>
        h(
          'tr',
          { dataset: { identity: p.identity } },
          h(
            'td',
            {},
            `${p.hostname}:${p.pid}`,
            p.tag ? h('span', { class: 'muted' }, ` ${p.tag}`) : null,
          ),
          h('td', {}, time(p.started_at)),
          h('td', {}, fmt(p.concurrency)),
          h('td', {}, fmt(p.busy)),
          h('td', {}, p.queues.join(', ')),
          h('td', {}, p.stopping ? 'stopping' : p.quiet ? 'quiet' : 'running'),
          h(
            'td',
            {},
            actionButton('Quiet', 'quiet', `/api/v1/sidekiq/processes/${id(p)}/quiet`),
            actionButton('Stop', 'stop', `/api/v1/sidekiq/processes/${id(p)}/stop`, {
              danger: true,
              confirm: `Stop ${p.hostname}:${p.pid}?`,
            }),
          ),
        ),
      ),
    ),
    h('h2', {}, 'Jobs running now'),
    table(
      ['Process', 'Thread', 'Job', 'Class', 'Queue', 'Started'],
      workers.map((w) =>
        h(
          'tr',
          {},
          h('td', {}, w.process),
          h('td', {}, w.thread),
          h('td', {}, sidekiqJobLink(w.job?.jid)),
          h('td', {}, w.job?.display_class ?? '—'),
          h('td', {}, w.queue),
          h('td', {}, time(w.run_at)),
        ),
      ),
    ),
  );
}

const STATUSES = [
  '',
  'scheduled',
  'queued',
  'running',
  'succeeded',
  'failed',
  'retrying',
  'dead',
  'interrupted',
  'restarted',
  'cancelled',
];

async function jobs(arg) {
  if (arg) {
    return jobPage(arg);
  }
  const filters = JSON.parse(sessionStorage.getItem('job-filters') ?? '{}');
  const query = new URLSearchParams({ limit: '50' });
  for (const [key, value] of Object.entries(filters)) {
    if (value) {
      query.set(key, value);
    }
  }
  const cursor = sessionStorage.getItem('job-cursor');
  if (cursor) {
    query.set('cursor', cursor);
  }
  const data = await api(`/api/v1/jobs?${query}`);
  const page = (next) => {
    if (next) {
      sessionStorage.setItem('job-cursor', next);
    } else {
      sessionStorage.removeItem('job-cursor');
    }
    void render();
  };
  const field = (name, placeholder) =>
    h('input', { name, placeholder, value: filters[name] ?? '' });
  const form = h(
    'form',
    {
      class: 'toolbar',
      id: 'job-filters',
      onsubmit: (e) => {
        e.preventDefault();
        const next = Object.fromEntries(new FormData(e.target).entries());
        sessionStorage.setItem('job-filters', JSON.stringify(next));
        page(null);
      },
    },
    h(
      'select',
      { name: 'status' },
      STATUSES.map((s) =>
        h('option', { value: s, selected: s === (filters.status ?? '') }, s || 'any status'),
      ),
    ),
    field('job_class', 'class'),
    field('queue', 'queue'),
    field('arguments', 'arguments contain'),
    state.instances.length > 1
      ? h(
          'select',
          { name: 'instance' },
          ['', ...state.instances].map((i) =>
            h(
              'option',
              { value: i, selected: i === (filters.instance ?? '') },
              i || 'any instance',
            ),
          ),
        )
      : null,
    h('button', { type: 'submit' }, 'Filter'),
  );
  return h(
    'div',
    {},
    h('h1', {}, 'Jobs'),
    h('p', { class: 'muted' }, 'Every job that reported to us, newest first.'),
    form,
    table(
      ['Job', 'Status', 'Class', 'Queue', 'Arguments', 'Last event'],
      data.jobs.map((job) =>
        h(
          'tr',
          { dataset: { jid: job.job_id } },
          h('td', {}, jobLink(job.job_id, job.instance)),
          h('td', { class: `status ${job.status}` }, job.status),
          h('td', {}, job.job_class ?? '—'),
          h('td', {}, job.queue ?? '—'),
          h('td', { class: 'args' }, job.arguments ?? '—'),
          h('td', {}, time(job.last_event_at)),
        ),
      ),
    ),
    h(
      'div',
      { class: 'toolbar' },
      h('button', { type: 'button', disabled: !cursor, onclick: () => page(null) }, '« Newest'),
      h(
        'button',
        {
          type: 'button',
          id: 'older',
          disabled: !data.next_cursor,
          onclick: () => page(data.next_cursor),
        },
        'Older ›',
      ),
    ),
  );
}

async function jobPage(arg) {
  const [jid, inst] = arg.split('/');
  const query = inst ? `?instance=${encodeURIComponent(inst)}` : '';
  const job = await api(`/api/v1/jobs/${encodeURIComponent(jid)}${query}`);
  let status = null;
  try {
    // by the job's jid: the link may name it by Active Job's job_id
    status = await api(
      `/api/v1/jobs/${encodeURIComponent(job.job_id)}/status?instance=${encodeURIComponent(job.instance)}`,
    );
  } catch {
    // progress is optional
  }
  const fields = [
    ['Status', h('span', { class: `status ${job.status}` }, job.status)],
    ['Class', job.job_class ?? '—'],
    ['Queue', job.queue ?? '—'],
    ['Arguments', h('code', {}, job.arguments ?? '—')],
    ...(job.wrapper_class
      ? [
          ['Active Job id', job.active_job_id ?? '—'],
          ['Sidekiq class', job.wrapper_class],
          ['Sidekiq arguments', h('code', {}, job.raw_arguments ?? '—')],
        ]
      : []),
    ['Instance', job.instance],
    ['Attempt', String(job.attempt)],
    ['Enqueued', time(job.enqueued_at)],
    ['Started', time(job.started_at)],
    ['Completed', time(job.completed_at)],
    ['Worker', job.hostname ? `${job.hostname}:${job.pid ?? '?'} ${job.tid ?? ''}` : '—'],
    ['Error', job.error_class ? `${job.error_class}: ${job.error_message ?? ''}` : '—'],
    ['Restarted as', jobLink(job.restarted_as, job.instance)],
    ['Restarted from', jobLink(job.restarted_from, job.instance)],
  ];
  if (status?.pct_complete !== null && status?.pct_complete !== undefined) {
    // a style property, not a style attribute: the page's CSP allows no inline styles
    const bar = h('div');
    bar.style.width = `${status.pct_complete}%`;
    fields.push([
      'Progress',
      h(
        'span',
        {},
        h('div', { class: 'progress' }, bar),
        ` ${status.pct_complete}% ${status.message ?? ''}`,
      ),
    ]);
  }
  if (status && Object.keys(status.data).length) {
    fields.push(['Data', h('code', {}, JSON.stringify(status.data))]);
  }
  return h(
    'div',
    {},
    h('h1', {}, `Job ${job.job_id}`),
    h(
      'dl',
      { class: 'fields' },
      fields.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
    ),
    h('h2', {}, 'Timeline'),
    h(
      'ol',
      { class: 'timeline', id: 'timeline' },
      job.events.map((e) =>
        h(
          'li',
          { dataset: { type: e.type } },
          h('strong', {}, e.type),
          ` ${time(e.occurred_at)}`,
          e.attempt ? h('span', { class: 'muted' }, ` attempt ${e.attempt}`) : null,
          e.hostname ? h('span', { class: 'muted' }, ` on ${e.hostname}:${e.pid ?? '?'}`) : null,
          e.error_class ? h('div', {}, `${e.error_class}: ${e.error_message ?? ''}`) : null,
        ),
      ),
    ),
  );
}

// ---------- session ----------

function signOut(message) {
  // the token and everything the tab remembered for it (filters, pages, instance)
  sessionStorage.clear();
  state.me = null;
  stopTimers();
  $('nav').hidden = true;
  $('who').hidden = true;
  $('view').replaceChildren();
  $('signin-view').hidden = false;
  flash(message ?? '');
}

async function start() {
  if (!sessionStorage.getItem(TOKEN_KEY)) {
    signOut();
    return;
  }
  try {
    const me = await api('/api/v1/tokens/self');
    if (!me.scopes.includes('read') && !me.scopes.includes('admin')) {
      signOut(`The token "${me.name}" may only ingest; the dashboard needs the read scope.`);
      return;
    }
    const known = await api('/api/v1/sidekiq/instances');
    state.me = me;
    state.instances = known.instances;
    state.readOnly = known.read_only;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) {
      flash(`Could not reach the service: ${error.message}`);
    }
    return;
  }
  if (!state.instances.includes(instance())) {
    sessionStorage.removeItem('instance');
  }
  const picker = $('instance');
  picker.replaceChildren(
    ...state.instances.map((i) => h('option', { value: i, selected: i === instance() }, i)),
  );
  $('instance-pick').hidden = state.instances.length < 2;
  $('read-only').hidden = !state.readOnly;
  $('signin-view').hidden = true;
  $('nav').hidden = false;
  $('who').hidden = false;
  const who = `${state.me.name} (${state.me.scopes.join(', ')})`;
  $('who-name').textContent = who;
  $('who-name').title = who;
  await render();
}

$('signin').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
  $('token').value = '';
  flash('');
  void start();
});
$('signout').addEventListener('click', () => signOut('Signed out.'));
$('instance').addEventListener('change', (e) => {
  sessionStorage.setItem('instance', e.target.value);
  flash('');
  void render();
});
window.addEventListener('hashchange', () => {
  if (state.me) {
    flash('');
    void render();
  }
});
void start();
