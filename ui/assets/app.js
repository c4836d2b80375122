// The UI's shell: the header's shared controls (navigation, trace id, time range, auto refresh), and the router
// that maps the address to a page module. Every page's state is in its URL; pages re-render from it.

import { h, show, failure } from './format.js';
import { PRESETS, windowOf, localInput } from './timerange.js';

const PAGES = [
  [/^\/(?:services\/?)?$/, () => import('./pages/services.js')],
  [/^\/services\/([^/]+)\/?$/, () => import('./pages/service.js')],
  [/^\/traces\/?$/, () => import('./pages/traces.js')],
  [/^\/traces\/([0-9a-fA-F]{32})\/?$/, () => import('./pages/trace.js')],
  [/^\/logs\/?$/, () => import('./pages/logs.js')],
  [/^\/metrics\/?$/, () => import('./pages/metrics.js')],
  [/^\/map\/?$/, () => import('./pages/map.js')],
];
const NAV = [['/services', 'Services'], ['/traces', 'Traces'], ['/logs', 'Logs'], ['/metrics', 'Metrics'], ['/map', 'Service map']];
const REFRESH = { off: 0, '10s': 10e3, '30s': 30e3, '1m': 60e3, '5m': 300e3 };

const main = document.getElementById('page');
let cleanup = null;
let refreshTimer = null;
let generation = 0;

/** Goes to `url` (a path with query) without reloading; `replace` keeps the history entry. */
export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render();
}

/** Sets query parameters of the current address (null removes one) and re-renders. */
export function setParams(changes, opts = {}) {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) {
    q.delete(k);
    for (const x of Array.isArray(v) ? v : [v]) if (x !== null && x !== undefined && x !== '') q.append(k, x);
  }
  const s = q.toString();
  navigate(location.pathname + (s ? '?' + s : ''), opts);
}

/** Keeps the time range parameters of the current address on a link to another page. */
export function withRange(path) {
  const q = new URLSearchParams(location.search);
  const keep = new URLSearchParams();
  for (const k of ['range', 'from', 'to']) if (q.get(k)) keep.set(k, q.get(k));
  const s = keep.toString();
  return s ? path + (path.includes('?') ? '&' : '?') + s : path;
}

function header() {
  const params = new URLSearchParams(location.search);
  const w = windowOf(params);
  const links = NAV.map(([href, label]) => h('a', {
    href: withRange(href), 'aria-current': location.pathname.startsWith(href) || (href === '/services' && location.pathname === '/') ? 'page' : null,
  }, label));
  const traceForm = h('form', { class: 'trace-id', role: 'search', onsubmit: (e) => {
    e.preventDefault();
    const id = e.target.id.value.trim().toLowerCase();
    if (/^[0-9a-f]{32}$/.test(id)) navigate(withRange(`/traces/${id}`));
    else e.target.id.setCustomValidity('A trace id is 32 hexadecimal digits');
    e.target.id.reportValidity();
  } }, h('input', { name: 'id', 'aria-label': 'Trace id', placeholder: 'Trace id', spellcheck: 'false', size: 34,
    oninput: (e) => e.target.setCustomValidity('') }));
  const range = h('select', { 'aria-label': 'Time range', onchange: (e) => {
    if (e.target.value === 'custom') setParams({ range: null, from: w.from, to: w.to });
    else setParams({ range: e.target.value, from: null, to: null });
  } }, Object.keys(PRESETS).map((k) => h('option', { value: k, selected: w.range === k }, `Last ${k}`)),
  h('option', { value: 'custom', selected: !!w.custom }, 'Custom…'));
  const custom = w.custom ? h('span', { class: 'custom' },
    h('input', { type: 'datetime-local', 'aria-label': 'From', value: localInput(w.from),
      onchange: (e) => setParams({ from: new Date(e.target.value).toISOString() }) }),
    h('input', { type: 'datetime-local', 'aria-label': 'To', value: localInput(w.to),
      onchange: (e) => setParams({ to: new Date(e.target.value).toISOString() }) })) : null;
  const refresh = h('select', { 'aria-label': 'Auto refresh', onchange: (e) => setParams({ refresh: e.target.value === 'off' ? null : e.target.value }, { replace: true }) },
    Object.keys(REFRESH).map((k) => h('option', { value: k, selected: (params.get('refresh') ?? 'off') === k }, k === 'off' ? 'Refresh: off' : `Every ${k}`)));
  const now = h('button', { type: 'button', title: 'Refresh now', 'aria-label': 'Refresh now', onclick: () => render() }, '⟳');
  show(document.getElementById('top'),
    h('a', { class: 'brand', href: withRange('/services') }, 'ollyscale'),
    h('nav', { 'aria-label': 'Pages' }, links), traceForm,
    h('div', { class: 'range' }, range, custom, refresh, now));
}

/** Renders the page of the current address. */
export async function render() {
  const mine = ++generation;
  if (cleanup) cleanup();
  cleanup = null;
  clearInterval(refreshTimer);
  header();
  const path = location.pathname;
  const found = PAGES.map(([re, load]) => [path.match(re), load]).find(([m]) => m);
  if (!found) {
    show(main, failure({ message: `No page at ${path}.` }));
    return;
  }
  const [match, load] = found;
  const params = new URLSearchParams(location.search);
  try {
    const page = await load();
    if (mine !== generation) return;
    const ctx = { match, params, window: windowOf(params), navigate, setParams, withRange, isCurrent: () => mine === generation };
    cleanup = (await page.render(main, ctx)) ?? null;
  } catch (e) {
    if (mine === generation) show(main, failure(e));
  }
  const every = REFRESH[params.get('refresh')];
  if (every && mine === generation) refreshTimer = setInterval(() => render(), every);
}

// Same-origin links navigate inside the UI; other links, downloads and modified clicks behave as usual.
document.addEventListener('click', (e) => {
  const a = e.target.closest('a');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  if (a.target || a.hasAttribute('download') || a.origin !== location.origin || a.pathname.startsWith('/api/')) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
});
window.addEventListener('popstate', render);
render();
