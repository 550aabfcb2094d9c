// #/findings: what the detectors noticed (stuck, never started, duplicate runs, overdue periodic
// work, new failures, deploy regressions), open and recent, each with why it fired, its evidence and
// links to its job(s).
import { api } from '../api.js';
import { h, instanceQuery, jobLink, table, time } from '../dom.js';
import { render } from '../state.js';

const DETECTORS = [
  'stuck',
  'never_started',
  'duplicate',
  'overdue',
  'new_failure',
  'deploy_regression',
];
const STATES = [
  ['open', 'open'],
  ['recent', 'ended'],
  ['', 'open and ended'],
];
const PER_PAGE = 25;
// jids named anywhere in the evidence (a duplicate's two runs, a fingerprint's sample), at most
const MAX_LINKS = 5;

/** The finding's job and the jobs its evidence names (keys `jid`, `*_jid`), without repeats. */
function jidsOf(finding) {
  const found = new Set(finding.job_id ? [finding.job_id] : []);
  const walk = (value, depth) => {
    if (found.size >= MAX_LINKS || depth > 4 || value === null || typeof value !== 'object') {
      return;
    }
    for (const [key, v] of Object.entries(value)) {
      if (typeof v === 'string' && (key === 'jid' || key.endsWith('_jid')) && v) {
        found.add(v);
      } else {
        walk(v, depth + 1);
      }
    }
  };
  walk(finding.evidence, 0);
  return [...found].slice(0, MAX_LINKS);
}

const filtersOf = () => {
  const saved = JSON.parse(sessionStorage.getItem('findings-filters') ?? '{}');
  return { detector: saved.detector ?? '', state: saved.state ?? 'open' };
};

export async function findings() {
  const filters = filtersOf();
  const page = Number(sessionStorage.getItem('findings-page') ?? 1);
  const query = new URLSearchParams({ page: String(page), per_page: String(PER_PAGE) });
  for (const [key, value] of Object.entries(filters)) {
    if (value) {
      query.set(key, value);
    }
  }
  const data = await api(`/api/v1/findings?${query}${instanceQuery('&')}`);
  const go = (next) => {
    sessionStorage.setItem('findings-page', String(next));
    void render();
  };
  const form = h(
    'form',
    {
      class: 'toolbar',
      id: 'finding-filters',
      onchange: (e) => {
        const next = Object.fromEntries(new FormData(e.currentTarget).entries());
        sessionStorage.setItem('findings-filters', JSON.stringify(next));
        go(1);
      },
      onsubmit: (e) => e.preventDefault(),
    },
    h(
      'select',
      { name: 'detector', id: 'finding-detector' },
      ['', ...DETECTORS].map((d) =>
        h('option', { value: d, selected: d === filters.detector }, d || 'every detector'),
      ),
    ),
    h(
      'select',
      { name: 'state', id: 'finding-state' },
      STATES.map(([value, label]) =>
        h('option', { value, selected: value === filters.state }, label),
      ),
    ),
  );
  return h(
    'div',
    {},
    h('h1', {}, 'Findings'),
    h(
      'p',
      { class: 'muted' },
      'What the detectors noticed in the history and in Sidekiq: open while it lasts, then kept as history.',
    ),
    form,
    table(
      ['Detector', 'Severity', 'State', 'Class', 'Jobs', 'Why', 'Since', 'Last seen / ended'],
      data.findings.map((f) =>
        h(
          'tr',
          { dataset: { finding: f.id, detector: f.detector } },
          h('td', {}, f.detector),
          h('td', { class: `status ${f.severity}` }, f.severity),
          h('td', { class: `status ${f.state}` }, f.state),
          h(
            'td',
            {},
            f.job_class
              ? h('a', { href: `#/metrics/${encodeURIComponent(f.job_class)}` }, f.job_class)
              : '—',
          ),
          h(
            'td',
            { class: 'jobs' },
            jidsOf(f).flatMap((jid, i) => [i ? ' ' : null, jobLink(jid, f.instance)]),
          ),
          h(
            'td',
            { class: 'why' },
            h('div', { class: 'summary' }, f.summary),
            h(
              'details',
              {},
              h('summary', {}, 'evidence'),
              h('pre', { class: 'evidence' }, JSON.stringify(f.evidence, null, 2)),
            ),
          ),
          h('td', {}, time(f.started_at)),
          h('td', {}, f.ended_at ? `ended ${time(f.ended_at)}` : time(f.last_seen_at)),
        ),
      ),
    ),
    h(
      'div',
      { class: 'toolbar' },
      h('button', { type: 'button', disabled: page <= 1, onclick: () => go(page - 1) }, '‹ Newer'),
      h('span', { class: 'muted' }, `page ${page}`),
      h(
        'button',
        { type: 'button', disabled: !data.next_page, onclick: () => go(data.next_page) },
        'Older ›',
      ),
    ),
  );
}
