// What the page shares between its modules: the session, the selected Sidekiq instance, and the
// redraw hook (app.js installs its router here, so views and actions can redraw without importing it).
export const TOKEN_KEY = 'sidekiq-supervisor-token';
export const REFRESH_MS = 5000;
export const PER_PAGE = 25;

export const state = {
  me: null,
  instances: ['default'],
  readOnly: false,
  timer: null,
  renders: 0,
  paused: false,
  charts: [],
};

export const isAdmin = () => state.me?.scopes.includes('admin') ?? false;
export const instance = () => sessionStorage.getItem('instance') ?? state.instances[0];
/** `path` for the selected Sidekiq instance (the default one needs no parameter). */
export const sk = (path) =>
  instance() === state.instances[0]
    ? path
    : `${path}${path.includes('?') ? '&' : '?'}instance=${encodeURIComponent(instance())}`;

let renderer = async () => {};
/** Installs the function that draws the current route. */
export function setRenderer(fn) {
  renderer = fn;
}
/** Draws the current route again. */
export function render() {
  return renderer();
}
