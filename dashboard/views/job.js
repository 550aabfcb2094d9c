// #/jobs/<jid>[/<instance>]: one job's fields, progress, timeline and the actions taken on it.
import { api } from '../api.js';
import { h, jobLink, time } from '../dom.js';
import { actionsTable } from './audit.js';

export async function jobPage(arg) {
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
  // the audit records naming this job (latest 20); by jid, as the audit log keeps them
  let actions;
  try {
    actions = await api(`/api/v1/jobs/${encodeURIComponent(job.job_id)}/audit?limit=20`);
  } catch (error) {
    // the job itself is still worth showing
    actions = { error: error.message };
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
    h('h2', {}, 'Actions'),
    actions.error
      ? h(
          'p',
          { class: 'muted', id: 'job-actions' },
          `Actions could not be loaded: ${actions.error}`,
        )
      : actions.records.length > 0
        ? h(
            'div',
            { id: 'job-actions' },
            actionsTable(actions.records, false),
            actions.next_cursor
              ? h('p', { class: 'muted' }, 'Older actions: the Audit page, by jid.')
              : null,
          )
        : h('p', { class: 'muted', id: 'job-actions' }, 'No action was taken on this job.'),
  );
}
