// #/queues: every queue with its size and latency; #/queues/<name> is one queue (queue.js).
import { actionButton, api } from '../api.js';
import { fmt, h, table } from '../dom.js';
import { sk } from '../state.js';
import { queuePage } from './queue.js';

export async function queues(arg) {
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
