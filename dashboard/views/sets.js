// #/scheduled, #/retry and #/dead: Sidekiq's sorted sets, searchable, with per-entry and bulk actions.
import { actionButton, api } from '../api.js';
import { argsText, h, pager, sidekiqJobLink, table, time } from '../dom.js';
import { PER_PAGE, render, sk } from '../state.js';

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

export async function sortedSet(_arg, set) {
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
