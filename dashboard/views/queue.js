// #/queues/<name>: one queue's jobs, a page at a time.
import { actionButton, api } from '../api.js';
import { argsText, fmt, h, pager, sidekiqJobLink, table, time } from '../dom.js';
import { PER_PAGE, render, sk } from '../state.js';

export async function queuePage(name, page) {
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
