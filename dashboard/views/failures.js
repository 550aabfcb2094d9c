// #/failures: failures grouped by fingerprint (error class, masked message, first application
// frame), newest first: their last 24 hours as a small chart, first and last seen, the classes they
// hit, a sample job, and whether they are new since the instance's last deploy.
import { api } from '../api.js';
import { sparkline } from '../charts.js';
import { fmt, h, instanceQuery, jobLink, table, time } from '../dom.js';
import { render } from '../state.js';

const PER_PAGE = 20;

export async function failures() {
  const offset = Number(sessionStorage.getItem('failures-offset') ?? 0);
  const sort = sessionStorage.getItem('failures-sort') === 'count' ? 'count' : 'last_seen';
  const data = await api(
    `/api/v1/failures?limit=${PER_PAGE}&offset=${offset}&sort=${sort}${instanceQuery('&')}`,
  );
  const go = (next) => {
    sessionStorage.setItem('failures-offset', String(next));
    void render();
  };
  const sorter = h(
    'select',
    {
      id: 'failures-sort',
      onchange: (e) => {
        sessionStorage.setItem('failures-sort', e.target.value);
        go(0);
      },
    },
    h('option', { value: 'last_seen', selected: sort === 'last_seen' }, 'newest failure first'),
    h('option', { value: 'count', selected: sort === 'count' }, 'most failures first'),
  );
  return h(
    'div',
    {},
    h('h1', {}, 'Failures'),
    h(
      'p',
      { class: 'muted' },
      'Failures grouped by error class, message (numbers, ids and quoted values masked) and first application frame.',
    ),
    h('div', { class: 'toolbar' }, sorter),
    table(
      [
        'Error',
        h('th', { class: 'num' }, 'Failures'),
        'Last 24 h',
        'First seen',
        'Last seen',
        'Classes',
        'Sample',
      ],
      data.failures.map((f) =>
        h(
          'tr',
          { dataset: { fingerprint: f.fingerprint } },
          h(
            'td',
            { class: 'error' },
            h('strong', {}, f.error_class),
            f.new_since_deploy
              ? h(
                  'span',
                  {
                    class: 'badge new',
                    title: f.last_deploy
                      ? `first seen after ${f.last_deploy.revision}, deployed ${time(f.last_deploy.deployed_at)}`
                      : 'first seen after the last deploy',
                  },
                  'new since deploy',
                )
              : null,
            h('div', {}, h('code', {}, f.message)),
            f.frame ? h('div', { class: 'muted' }, f.frame) : null,
          ),
          h('td', { class: 'num', dataset: { field: 'count' } }, fmt(f.count)),
          h('td', { class: 'trend' }, sparkline(f.trend.map((t) => t.count))),
          h('td', {}, time(f.first_seen_at)),
          h('td', {}, time(f.last_seen_at)),
          h(
            'td',
            {},
            f.job_classes.flatMap((c, i) => [
              i ? ', ' : null,
              h('a', { href: `#/metrics/${encodeURIComponent(c)}` }, c),
            ]),
            f.job_classes_truncated ? ', …' : '',
          ),
          h('td', { class: 'sample' }, jobLink(f.sample.jid, f.instance)),
        ),
      ),
    ),
    h(
      'div',
      { class: 'toolbar' },
      h(
        'button',
        {
          type: 'button',
          disabled: offset <= 0,
          onclick: () => go(Math.max(0, offset - PER_PAGE)),
        },
        '‹ Prev',
      ),
      h(
        'button',
        {
          type: 'button',
          disabled: data.next_offset === null,
          onclick: () => go(data.next_offset),
        },
        'Next ›',
      ),
    ),
  );
}
