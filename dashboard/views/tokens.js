// #/tokens (admin): every token with its scopes, last use, expiry and state, with revoke and
// rotate; the bootstrap PRIVATE_TOKEN from the environment is listed as such and cannot be changed
// here. A rotation's new secret is shown once, on the next drawing of the page.
import { ApiError, api } from '../api.js';
import { flash, h, table, time } from '../dom.js';
import { isAdmin, render } from '../state.js';

/** the secret of the last rotation, until the page has shown it once */
let revealed = null;

/** Runs a change, reports its outcome, and answers the API's reply (null when refused). */
async function change(label, path, method, body) {
  try {
    const result = await api(path, { method, body });
    flash(`${label}: done`, true);
    return result;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) {
      flash(`${label}: ${error.message}`);
    }
    return null;
  }
}

function buttons(t) {
  if (t.bootstrap || t.state === 'revoked' || t.state === 'expired') {
    return null;
  }
  const path = `/api/v1/tokens/${encodeURIComponent(t.id)}`;
  const rotate = async () => {
    if (!window.confirm(`Rotate "${t.name}"? Its current secret keeps working for an hour.`)) {
      return;
    }
    const rotated = await change('Rotate', `${path}/rotate`, 'POST', {});
    if (rotated) {
      revealed = { name: rotated.name, token: rotated.token, until: rotated.previous_valid_until };
    }
    await render();
  };
  const revoke = async () => {
    if (window.confirm(`Revoke "${t.name}"? Every client using it is refused at once.`)) {
      await change('Revoke', path, 'DELETE');
      await render();
    }
  };
  return [
    h('button', { type: 'button', dataset: { action: 'rotate' }, onclick: rotate }, 'Rotate'),
    h(
      'button',
      { type: 'button', class: 'danger', dataset: { action: 'revoke' }, onclick: revoke },
      'Revoke',
    ),
  ];
}

function secretBox() {
  if (!revealed) {
    return null;
  }
  const { name, token, until } = revealed;
  revealed = null;
  return h(
    'div',
    { class: 'secret', id: 'new-secret' },
    h('p', {}, `New secret of "${name}": copy it now, it is not shown again.`),
    h('code', {}, token),
    h(
      'p',
      { class: 'muted' },
      until ? `The old secret works until ${time(until)}.` : 'The old secret no longer works.',
    ),
  );
}

export async function tokens() {
  if (!isAdmin()) {
    return h('div', {}, h('h1', {}, 'Tokens'), h('p', {}, 'Only an admin token may see tokens.'));
  }
  const list = await api('/api/v1/tokens');
  return h(
    'div',
    {},
    h('h1', {}, 'Tokens'),
    secretBox(),
    table(
      ['Name', 'Prefix', 'Scopes', 'Created', 'Last used', 'Expires', 'State', ''],
      list.map((t) =>
        h(
          'tr',
          { dataset: { token: t.id ?? 'bootstrap', state: t.state } },
          h('td', {}, t.name),
          h('td', {}, t.token_prefix ? h('code', {}, `${t.token_prefix}…`) : '—'),
          h('td', {}, t.scopes.join(', ')),
          h('td', {}, time(t.created_at)),
          h('td', {}, t.bootstrap ? 'not recorded' : time(t.last_used_at)),
          h('td', {}, t.bootstrap ? 'never (set in the environment)' : time(t.expires_at)),
          h(
            'td',
            { class: `status ${t.state}` },
            t.state,
            t.state === 'rotating'
              ? h('span', { class: 'muted' }, ` (old secret until ${time(t.previous_valid_until)})`)
              : null,
          ),
          h('td', {}, buttons(t)),
        ),
      ),
    ),
  );
}
