// #/periodic: sidekiq-cron's jobs and sidekiq-scheduler's schedules of the selected instance with their schedule, next run, last
// enqueue, last run and success from the history, and status; enable/disable and "Enqueue now"
// for an admin token (disabled in read-only mode; the API refuses them there too).
import { actionButton, api } from '../api.js';
import { fmt, h, table, time } from '../dom.js';
import { render, sk, state } from '../state.js';

const PER_PAGE = 50;

function actions(job) {
  // the gem is named: both may have a job of the same name
  const path = (verb) =>
    `/api/v1/sidekiq/periodic/${encodeURIComponent(job.name)}/${verb}?source=${job.source}`;
  const buttons = [
    job.enabled
      ? actionButton('Disable', 'disable', path('disable'))
      : actionButton('Enable', 'enable', path('enable')),
    actionButton('Enqueue now', 'enqueue', path('enqueue')),
  ].filter(Boolean);
  if (state.readOnly) {
    for (const b of buttons) {
      b.disabled = true;
      b.title = 'SIDEKIQ_READ_ONLY=true: changes are refused';
    }
  }
  return buttons;
}

export async function periodic() {
  const page = Number(sessionStorage.getItem('periodic-page') ?? 1);
  const data = await api(sk(`/api/v1/sidekiq/periodic?page=${page}&per_page=${PER_PAGE}`));
  const pages = Math.max(1, Math.ceil(data.total / PER_PAGE));
  const go = (next) => {
    sessionStorage.setItem('periodic-page', String(next));
    void render();
  };
  return h(
    'div',
    {},
    h('h1', {}, 'Periodic jobs'),
    h(
      'p',
      { class: 'muted' },
      `sidekiq-cron's jobs and sidekiq-scheduler's schedules in ${data.instance}: the next run from the gem or the cron expression, the last run and success from the history.`,
    ),
    table(
      [
        'Name',
        'Class',
        'Schedule',
        'Status',
        'Next run',
        'Last enqueued',
        'Last run',
        'Last success',
        h('th', { class: 'num' }, 'Missed runs'),
        '',
      ],
      data.jobs.map((job) =>
        h(
          'tr',
          { dataset: { cron: job.name } },
          h('td', {}, job.name, h('div', { class: 'muted' }, job.source)),
          h('td', {}, h('a', { href: `#/metrics/${encodeURIComponent(job.class)}` }, job.class)),
          h(
            'td',
            {},
            job.schedule_type === 'cron' || job.schedule_type === null
              ? h('code', {}, job.schedule ?? '—')
              : h('span', {}, `${job.schedule_type} `, h('code', {}, job.schedule ?? '—')),
            job.schedule_error ? h('div', { class: 'muted' }, job.schedule_error) : null,
          ),
          h('td', { class: `status ${job.status}`, dataset: { field: 'status' } }, job.status),
          h('td', {}, time(job.next_run)),
          h('td', { dataset: { field: 'last-enqueue' } }, time(job.last_enqueue_time)),
          h(
            'td',
            {},
            time(job.last_run_at),
            job.last_run_status ? ` (${job.last_run_status})` : '',
          ),
          h('td', {}, time(job.last_success_at)),
          h('td', { class: 'num' }, fmt(job.missed_runs)),
          h('td', { class: 'actions' }, actions(job)),
        ),
      ),
    ),
    data.truncated
      ? h(
          'p',
          { class: 'muted' },
          'More cron jobs or schedules than are read (5,000 of each): the first by name.',
        )
      : null,
    h(
      'div',
      { class: 'toolbar' },
      h('button', { type: 'button', disabled: page <= 1, onclick: () => go(page - 1) }, '‹ Prev'),
      h('span', { class: 'muted' }, `page ${page} of ${pages} (${fmt(data.total)})`),
      h(
        'button',
        { type: 'button', disabled: page >= pages, onclick: () => go(page + 1) },
        'Next ›',
      ),
    ),
  );
}
