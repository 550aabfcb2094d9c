// The service's REST API with the signed-in token (in the PRIVATE-TOKEN header, never in a URL),
// and the admin actions the views offer.
import { flash, h } from './dom.js';
import { TOKEN_KEY, isAdmin, render, sk } from './state.js';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

let unauthorized = () => {};
/** What to do when the API refuses the token (app.js signs out). */
export function onUnauthorized(fn) {
  unauthorized = fn;
}

export async function api(path, { method = 'GET', body } = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = { 'PRIVATE-TOKEN': token ?? '' };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  if (res.status === 401) {
    unauthorized('Your token is not valid (any more); sign in again.');
    throw new ApiError(401, data);
  }
  if (!res.ok) {
    throw new ApiError(res.status, data);
  }
  return data;
}

/** Runs an admin action, reports its outcome, then redraws the current view. */
export async function act(label, path, method = 'POST', body = undefined) {
  try {
    await api(sk(path), { method, body });
    flash(`${label}: done`, true);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      return; // signed out already
    }
    flash(`${label}: ${error.message}`);
  }
  await render();
}

/** A button for an admin action; nothing for a token without the admin scope. */
export const actionButton = (label, action, path, opts = {}) =>
  isAdmin()
    ? h(
        'button',
        {
          type: 'button',
          class: opts.danger ? 'danger' : undefined,
          dataset: { action },
          onclick: () => {
            // a bulk change asked for here is confirmed to the API too (it refuses one without)
            if (!opts.confirm) {
              void act(label, path, opts.method);
            } else if (window.confirm(opts.confirm)) {
              void act(label, path, opts.method, { confirm: true });
            }
          },
        },
        label,
      )
    : null;
