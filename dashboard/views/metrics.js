// #/metrics: the job classes with their finished jobs, failures and run times over a window (as
// Sidekiq 7's Metrics tab); #/metrics/<class> is one class: processed and failed over time, run
// and wait percentiles, the run-time histogram, and a link to its jobs.
import { api } from '../api.js';
import { drawCounts } from '../charts.js';
import { fmt, h, instanceQuery, runTime, table, time } from '../dom.js';
import { render } from '../state.js';

const WINDOWS = ['1h', '8h', '24h', '3d', '7d'];

const chosenWindow = () => {
  const saved = sessionStorage.getItem('metrics-window');
  return WINDOWS.includes(saved) ? saved : '1h';
};

function windowPicker(current) {
  return h(
    'label',
    {},
    'Window ',
    h(
      'select',
      {
        id: 'metrics-window',
        onchange: (e) => {
          sessionStorage.setItem('metrics-window', e.target.value);
          void render();
        },
      },
      WINDOWS.map((w) => h('option', { value: w, selected: w === current }, `last ${w}`)),
    ),
  );
}

const percent = (part, whole) => (whole === 0 ? '—' : `${((100 * part) / whole).toFixed(1)} %`);
const classHref = (name) => `#/metrics/${encodeURIComponent(name)}`;

/** The jobs list filtered by this class (its filters live in sessionStorage, see jobs.js). */
function showJobsOf(jobClass) {
  sessionStorage.setItem('job-filters', JSON.stringify({ job_class: jobClass }));
  sessionStorage.removeItem('job-cursor');
  location.hash = '#/jobs';
}

export async function metrics(arg) {
  if (arg) {
    return classPage(arg);
  }
  const win = chosenWindow();
  const data = await api(`/api/v1/metrics/classes?window=${win}${instanceQuery('&')}`);
  return h(
    'div',
    {},
    h('h1', {}, 'Metrics'),
    h(
      'p',
      { class: 'muted' },
      `Jobs that finished from ${time(data.from)} to ${time(data.to)}, by class. A job retried until it succeeded counts once, as succeeded.`,
    ),
    h('div', { class: 'toolbar' }, windowPicker(win)),
    table(
      [
        'Class',
        h('th', { class: 'num' }, 'Processed'),
        h('th', { class: 'num' }, 'Failed'),
        h('th', { class: 'num' }, 'Failure rate'),
        h('th', { class: 'num' }, 'Run p50'),
        h('th', { class: 'num' }, 'Run p95'),
      ],
      data.classes.map((c) =>
        h(
          'tr',
          { dataset: { class: c.job_class } },
          h('td', {}, h('a', { href: classHref(c.job_class) }, c.job_class)),
          h('td', { class: 'num', dataset: { field: 'processed' } }, fmt(c.processed)),
          h('td', { class: 'num', dataset: { field: 'failed' } }, fmt(c.failed)),
          h('td', { class: 'num' }, percent(c.failed, c.processed)),
          h('td', { class: 'num', dataset: { field: 'p50' } }, runTime(c.run_p50)),
          h('td', { class: 'num', dataset: { field: 'p95' } }, runTime(c.run_p95)),
        ),
      ),
    ),
    data.truncated
      ? h('p', { class: 'muted' }, `The first ${data.classes.length} classes by name.`)
      : null,
  );
}

function stat(key, label, value) {
  return h(
    'div',
    { class: `tile ${key}` },
    h('div', { class: 'value', dataset: { stat: key } }, value),
    h('div', { class: 'label' }, label),
  );
}

function histogram(buckets) {
  const max = Math.max(1, ...buckets.map((b) => b.count));
  let lower = 0;
  const bars = buckets.map((b) => {
    const label =
      b.up_to_seconds === null ? `≥ ${runTime(lower)}` : `< ${runTime(b.up_to_seconds)}`;
    lower = b.up_to_seconds ?? lower;
    const bar = h('div', { class: 'bar' });
    // CSSOM, not a style attribute: the page's CSP has no 'unsafe-inline'
    bar.style.height = `${Math.round((100 * b.count) / max)}%`;
    return h(
      'div',
      { class: 'hist-col', title: `${label}: ${fmt(b.count)}`, dataset: { bucket: label } },
      h('div', { class: 'hist-count' }, b.count ? fmt(b.count) : ''),
      h('div', { class: 'hist-bar' }, bar),
      h('div', { class: 'hist-label' }, label),
    );
  });
  return h('div', { class: 'histogram', id: 'histogram' }, bars);
}

async function classPage(jobClass) {
  const win = chosenWindow();
  const m = await api(
    `/api/v1/metrics/classes/${encodeURIComponent(jobClass)}?window=${win}${instanceQuery('&')}`,
  );
  const counts = h('div', { class: 'chart', id: 'chart-class-counts' });
  const root = h(
    'div',
    {},
    h('p', {}, h('a', { href: '#/metrics' }, '‹ Metrics')),
    h('h1', {}, m.job_class),
    h(
      'div',
      { class: 'toolbar' },
      windowPicker(win),
      h(
        'button',
        { type: 'button', id: 'class-jobs', onclick: () => showJobsOf(m.job_class) },
        `Jobs of ${m.job_class} ›`,
      ),
    ),
    h(
      'div',
      { class: 'tiles' },
      stat('processed', 'Processed', fmt(m.processed)),
      stat('failed', 'Failed', fmt(m.failed)),
      stat('failure_rate', 'Failure rate', percent(m.failed, m.processed)),
      stat('run_p50', 'Run p50', runTime(m.run_seconds.p50)),
      stat('run_p95', 'Run p95', runTime(m.run_seconds.p95)),
      stat('run_p99', 'Run p99', runTime(m.run_seconds.p99)),
      stat('wait_p50', 'Wait p50', runTime(m.wait_seconds.p50)),
      stat('wait_p95', 'Wait p95', runTime(m.wait_seconds.p95)),
      stat('wait_p99', 'Wait p99', runTime(m.wait_seconds.p99)),
    ),
    h(
      'p',
      { class: 'muted' },
      `From ${time(m.from)} to ${time(m.to)}; buckets of ${m.bucket_seconds / 60} min. Wait: from enqueue to start. Longest run ${runTime(m.run_seconds.max)}, longest wait ${runTime(m.wait_seconds.max)}.`,
    ),
    h('h2', {}, 'Processed and failed'),
    counts,
    h('h2', {}, 'Run time'),
    histogram(m.histogram),
  );
  root.addEventListener('attached', () => drawCounts(counts, m.series));
  return root;
}
