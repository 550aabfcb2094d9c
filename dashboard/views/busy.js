// #/busy: Sidekiq's processes (quiet/stop) and the jobs running now.
import { actionButton, api } from '../api.js';
import { fmt, h, sidekiqJobLink, table, time } from '../dom.js';
import { sk } from '../state.js';

export async function busy() {
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
