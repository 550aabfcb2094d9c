// #/audit (admin): the audit log, every change made through the service (REST, this dashboard,
// the REPL), newest first, filtered by actor, action, jid and time, paged by cursor. The job page
// (job.js) shows the records naming its jid with actionsTable.
import { api } from '../api.js';
import { h, jobLink, table, time } from '../dom.js';
import { isAdmin, render } from '../state.js';

const FILTERS = 'audit-filters';
const CURSOR = 'audit-cursor';

function actor(r) {
  if (r.actor.kind === 'repl') {
    return `REPL (${r.actor.os_user ?? '?'})`;
  }
  return r.actor.kind === 'bootstrap' ? 'PRIVATE_TOKEN' : (r.actor.token_name ?? r.actor.token_id);
}

/** A small JSON object as `key=value` pairs, jids as links; '—' when empty. */
function pairs(object, inst) {
  const entries = Object.entries(object ?? {});
  if (entries.length === 0) {
    return '—';
  }
  return entries.flatMap(([key, value], i) => [
    i > 0 ? ' ' : null,
    key === 'jids' && Array.isArray(value)
      ? h(
          'span',
          {},
          'jids=',
          ...value.slice(0, 5).flatMap((jid, j) => [j > 0 ? ',' : null, jobLink(jid, inst)]),
          value.length > 5 ? ` … ${value.length - 5} more` : null,
        )
      : `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`,
  ]);
}

function outcome(r) {
  const text =
    r.outcome === 'error' ? `error ${r.error?.code ?? r.error?.status ?? ''}` : r.outcome;
  return h('td', { class: `status ${r.outcome}`, title: r.error?.message ?? '' }, text);
}

/** The records as a table; `withClient`: the address and user agent columns (the admin page). */
export function actionsTable(records, withClient) {
  return table(
    [
      'When',
      'Who',
      ...(withClient ? ['From'] : []),
      'Action',
      'Targets',
      'Options',
      'Outcome',
      'Result',
    ],
    records.map((r) =>
      h(
        'tr',
        { dataset: { audit: r.id, action: r.action } },
        h('td', {}, time(r.at)),
        h('td', {}, actor(r)),
        withClient ? h('td', { title: r.user_agent ?? '' }, r.client_address ?? '—') : null,
        h('td', { title: r.route ?? '' }, h('code', {}, r.action)),
        h('td', {}, r.instance ? `${r.instance}: ` : null, pairs(r.targets, r.instance)),
        h('td', {}, pairs(r.options)),
        outcome(r),
        h('td', {}, pairs(r.result, r.instance)),
      ),
    ),
  );
}

// datetime-local gives the browser's local time without a zone; the API takes ISO 8601 with one
const iso = (local) => (local ? new Date(local).toISOString() : '');

export async function audit() {
  if (!isAdmin()) {
    return h(
      'div',
      {},
      h('h1', {}, 'Audit'),
      h('p', {}, 'Only an admin token may see the audit log.'),
    );
  }
  const filters = JSON.parse(sessionStorage.getItem(FILTERS) ?? '{}');
  const query = new URLSearchParams({ limit: '50' });
  for (const key of ['actor', 'action', 'jid']) {
    if (filters[key]) {
      query.set(key, filters[key]);
    }
  }
  for (const key of ['since', 'until']) {
    if (filters[key]) {
      query.set(key, iso(filters[key]));
    }
  }
  const cursor = sessionStorage.getItem(CURSOR);
  if (cursor) {
    query.set('cursor', cursor);
  }
  const data = await api(`/api/v1/audit?${query}`);
  const page = (next) => {
    if (next) {
      sessionStorage.setItem(CURSOR, next);
    } else {
      sessionStorage.removeItem(CURSOR);
    }
    void render();
  };
  const field = (name, placeholder, type = 'text') =>
    h('input', { name, placeholder, type, value: filters[name] ?? '', title: placeholder });
  const form = h(
    'form',
    {
      class: 'toolbar',
      id: 'audit-filters',
      onsubmit: (e) => {
        e.preventDefault();
        const next = Object.fromEntries(new FormData(e.target).entries());
        sessionStorage.setItem(FILTERS, JSON.stringify(next));
        page(null);
      },
    },
    field('actor', 'token name or id, repl, bootstrap'),
    field('action', 'action, e.g. sidekiq.queue.clear'),
    field('jid', 'jid'),
    field('since', 'since', 'datetime-local'),
    field('until', 'until', 'datetime-local'),
    h('button', { type: 'submit' }, 'Filter'),
  );
  return h(
    'div',
    {},
    h('h1', {}, 'Audit'),
    h(
      'p',
      { class: 'muted' },
      'Every change made through the service, newest first. Records cannot be changed or deleted; they are kept AUDIT_RETENTION_DAYS.',
    ),
    form,
    actionsTable(data.records, true),
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
