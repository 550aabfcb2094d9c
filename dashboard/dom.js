// Building the page: elements, tables, the pager, the flash message and number/time formatting.
// Every piece of data reaches the page through text nodes (no innerHTML).
import { PER_PAGE, instance, state } from './state.js';

/** Element with attributes (on* as listeners) and children (strings become text nodes). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (key.startsWith('on')) {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      el.append(child instanceof Node ? child : String(child));
    }
  }
  return el;
}

export const $ = (id) => document.getElementById(id);
export const fmt = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US'));
export const time = (value) => {
  if (value === null || value === undefined) {
    return '—';
  }
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  return date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
};

/** Seconds as "45 s", "12 min", "3.5 h". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) {
    return '—';
  }
  if (seconds < 90) {
    return `${Math.round(seconds)} s`;
  }
  if (seconds < 5400) {
    return `${Math.round(seconds / 60)} min`;
  }
  return `${(seconds / 3600).toFixed(1)} h`;
}

// display_args_json is the exact text (the browser's JSON reader rounds integers beyond 2^53
// and writes 3.0 as 3); display_args only for a server that does not send it
export const argsText = (job) => job.display_args_json ?? JSON.stringify(job.display_args);

/** Link to our job page; `inst` picks the row when a jid is known in several instances. */
export const jobLink = (jid, inst) =>
  jid
    ? h(
        'a',
        {
          href: `#/jobs/${encodeURIComponent(jid)}${inst ? `/${encodeURIComponent(inst)}` : ''}`,
        },
        jid,
      )
    : '—';
export const sidekiqJobLink = (jid) =>
  jobLink(jid, state.instances.length > 1 ? instance() : undefined);

export function flash(message, ok = false) {
  const el = $('flash');
  el.textContent = message;
  el.className = ok ? 'flash ok' : 'flash';
  el.hidden = !message;
}

export function table(headers, rows) {
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((t) => (t instanceof HTMLTableCellElement ? t : h('th', {}, t))),
      ),
    ),
    h(
      'tbody',
      {},
      rows.length ? rows : h('tr', {}, h('td', { colspan: headers.length }, 'Nothing here.')),
    ),
  );
}

export function pager(page, size, go) {
  const pages = Math.max(1, Math.ceil(size / PER_PAGE));
  return h(
    'div',
    { class: 'toolbar' },
    h('button', { type: 'button', disabled: page <= 1, onclick: () => go(page - 1) }, '‹ Newer'),
    h('span', { class: 'muted' }, `page ${page} of ${pages} (${fmt(size)})`),
    h(
      'button',
      { type: 'button', disabled: page >= pages, onclick: () => go(page + 1) },
      'Older ›',
    ),
  );
}

/** A run or wait time in seconds, fine enough for fast jobs: "12 ms", "1.25 s", "335 s", "12 min". */
export function runTime(seconds) {
  if (seconds === null || seconds === undefined) {
    return '—';
  }
  if (seconds < 1) {
    return `${Math.round(seconds * 1000)} ms`;
  }
  if (seconds < 90) {
    return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  }
  return seconds < 600 ? `${Math.round(seconds)} s` : duration(seconds);
}

/** `?instance=` for the selected instance when there are several (absent: every instance). */
export const instanceQuery = (prefix = '?') =>
  state.instances.length > 1 ? `${prefix}instance=${encodeURIComponent(instance())}` : '';
