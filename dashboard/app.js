// The /sidekiq dashboard: plain browser modules (no build step) on top of the service's own REST
// API. This one routes (#/<view>/<arg>) and boots the session; api.js talks to the service, dom.js
// builds elements, charts.js draws with uPlot, views/ holds one module per page. The token lives
// in sessionStorage (this tab only) and travels in the PRIVATE-TOKEN header, never in a URL.
import { ApiError, api, onUnauthorized } from './api.js';
import { $, flash, h } from './dom.js';
import { TOKEN_KEY, instance, isAdmin, setRenderer, state } from './state.js';
import { audit } from './views/audit.js';
import { busy } from './views/busy.js';
import { failures } from './views/failures.js';
import { findings } from './views/findings.js';
import { jobs } from './views/jobs.js';
import { metrics } from './views/metrics.js';
import { overview } from './views/overview.js';
import { periodic } from './views/periodic.js';
import { queues } from './views/queues.js';
import { sortedSet } from './views/sets.js';
import { tokens } from './views/tokens.js';

const VIEWS = {
  overview,
  queues,
  scheduled: sortedSet,
  retry: sortedSet,
  dead: sortedSet,
  busy,
  jobs,
  metrics,
  findings,
  periodic,
  failures,
  tokens,
  audit,
};

// ---------- routing ----------

function route() {
  const [name = 'overview', ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  return { name, arg: rest.map(decodeURIComponent).join('/') };
}

function stopTimers() {
  clearInterval(state.timer);
  state.timer = null;
  for (const chart of state.charts) {
    chart.destroy();
  }
  state.charts = [];
}

async function render() {
  stopTimers();
  // only the latest navigation may draw: an older, slower answer must not replace it
  const seq = ++state.renders;
  const { name, arg } = route();
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.getAttribute('href') === `#/${name}`);
  }
  const view = $('view');
  try {
    const draw = VIEWS[name] ?? overview;
    const content = await draw(arg, name);
    if (seq !== state.renders || !state.me) {
      return;
    }
    view.replaceChildren(content);
    content.dispatchEvent(new Event('attached'));
  } catch (error) {
    if (seq === state.renders && !(error instanceof ApiError && error.status === 401)) {
      view.replaceChildren(h('p', { class: 'flash' }, `Could not load: ${error.message}`));
    }
  }
}
setRenderer(render);

// ---------- session ----------

function signOut(message) {
  // the token and everything the tab remembered for it (filters, pages, instance)
  sessionStorage.clear();
  state.me = null;
  stopTimers();
  $('nav').hidden = true;
  $('who').hidden = true;
  $('view').replaceChildren();
  $('signin-view').hidden = false;
  flash(message ?? '');
}

onUnauthorized(signOut);

async function start() {
  if (!sessionStorage.getItem(TOKEN_KEY)) {
    signOut();
    return;
  }
  try {
    const me = await api('/api/v1/tokens/self');
    if (!me.scopes.includes('read') && !me.scopes.includes('admin')) {
      signOut(`The token "${me.name}" may only ingest; the dashboard needs the read scope.`);
      return;
    }
    const known = await api('/api/v1/sidekiq/instances');
    state.me = me;
    state.instances = known.instances;
    state.readOnly = known.read_only;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) {
      flash(`Could not reach the service: ${error.message}`);
    }
    return;
  }
  if (!state.instances.includes(instance())) {
    sessionStorage.removeItem('instance');
  }
  const picker = $('instance');
  picker.replaceChildren(
    ...state.instances.map((i) => h('option', { value: i, selected: i === instance() }, i)),
  );
  $('instance-pick').hidden = state.instances.length < 2;
  $('read-only').hidden = !state.readOnly;
  $('nav-tokens').hidden = !isAdmin();
  $('nav-audit').hidden = !isAdmin();
  $('signin-view').hidden = true;
  $('nav').hidden = false;
  $('who').hidden = false;
  const who = `${state.me.name} (${state.me.scopes.join(', ')})`;
  $('who-name').textContent = who;
  $('who-name').title = who;
  await render();
}

$('signin').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
  $('token').value = '';
  flash('');
  void start();
});
$('signout').addEventListener('click', () => signOut('Signed out.'));
$('instance').addEventListener('change', (e) => {
  sessionStorage.setItem('instance', e.target.value);
  flash('');
  void render();
});
window.addEventListener('hashchange', () => {
  if (state.me) {
    flash('');
    void render();
  }
});
void start();
