// #/jobs: every job that reported to us, filtered, newest first; #/jobs/<jid> is one job (job.js).
import { api } from '../api.js';
import { h, jobLink, table, time } from '../dom.js';
import { render, state } from '../state.js';
import { jobPage } from './job.js';

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

export async function jobs(arg) {
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
