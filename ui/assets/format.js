// Formatting and DOM helpers shared by the pages.

/** Creates an element: h('a', {href: '/x', class: 'y', onclick: f}, 'text', child, [more]). */
export function h(tag, attrs = {}, ...children) {
  const el = tag === 'svg' || SVG_TAGS.has(tag)
    ? document.createElementNS('http://www.w3.org/2000/svg', tag)
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}
const SVG_TAGS = new Set(['g', 'path', 'line', 'rect', 'circle', 'text', 'title', 'polyline', 'marker', 'defs']);

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** Nanoseconds as a short human duration: 850ns, 12.3µs, 4.56ms, 1.23s, 2m 5s. */
export function dur(ns) {
  if (ns === null || ns === undefined) return '–';
  ns = Number(ns);
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${(ns / 1e3).toPrecision(3)}µs`;
  if (ns < 1e9) return `${(ns / 1e6).toPrecision(3)}ms`;
  if (ns < 60e9) return `${(ns / 1e9).toPrecision(3)}s`;
  const s = Math.round(ns / 1e9);
  return s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** Unix nanoseconds (string or number) as milliseconds since the epoch. */
export const nsToMs = (ns) => Number(BigInt(ns) / 1000000n) + Number(BigInt(ns) % 1000000n) / 1e6;

/** A local date-time with milliseconds. */
export function time(ns) {
  const d = new Date(nsToMs(ns));
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** A count with thousands separators; a rate with up to three significant digits. */
export const num = (n) => Number(n).toLocaleString('en-US');
export const rate = (r) => (r >= 100 ? Math.round(r).toString() : Number(r).toPrecision(3).replace(/\.?0+$/, ''));
/** "1 span", "3 spans". */
export const plural = (n, word) => `${num(n)} ${word}${Number(n) === 1 ? '' : 's'}`;
export const pct = (r) => `${(r * 100).toFixed(r > 0 && r < 0.01 ? 2 : 1)}%`;

/** An attribute value in the API's typed JSON as display text. */
export function value(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** A stable colour per name (services): a hue from a string hash. */
export function colour(name) {
  let x = 2166136261;
  for (const c of String(name ?? '')) x = Math.imul(x ^ c.codePointAt(0), 16777619);
  // Mix the bits, so that names differing in their last letter get distant hues.
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  return `hsl(${(x >>> 0) % 360} 65% 50%)`;
}

/** The loading, empty and error states of a section. */
export const loading = (what = '') => h('p', { class: 'state', role: 'status' }, `Loading${what ? ' ' + what : ''}…`);
export const empty = (text) => h('p', { class: 'state empty' }, text);
export const failure = (err) => h('p', { class: 'state error', role: 'alert' }, err?.message ?? String(err));

/** Replaces `el`'s content. */
export function show(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** A sortable table: columns [{label, key, render, num}], rows; clicking a header sorts by it. */
export function table(columns, rows, { sort = null, desc = true, caption = '', rowAttrs = () => ({}) } = {}) {
  let key = sort, down = desc;
  const wrap = h('div', { class: 'table-wrap' });
  const draw = () => {
    const sorted = key
      ? [...rows].sort((a, b) => {
          const col = columns.find((c) => c.key === key);
          const va = col.sortValue ? col.sortValue(a) : a[key], vb = col.sortValue ? col.sortValue(b) : b[key];
          const r = va === vb ? 0 : va === null ? 1 : vb === null ? -1 : va < vb ? -1 : 1;
          return down ? -r : r;
        })
      : rows;
    const head = columns.map((c) => {
      const sortable = c.key !== undefined;
      const state = key === c.key ? (down ? 'descending' : 'ascending') : 'none';
      return h('th', { scope: 'col', class: c.num ? 'num' : '', 'aria-sort': sortable ? state : null },
        sortable ? h('button', { type: 'button', class: 'sort', onclick: () => {
          down = key === c.key ? !down : true;
          key = c.key;
          draw();
        } }, c.label, state === 'none' ? '' : state === 'descending' ? ' ▾' : ' ▴') : c.label);
    });
    const body = sorted.map((r) => h('tr', rowAttrs(r), columns.map((c) =>
      h('td', { class: c.num ? 'num' : '' }, c.render ? c.render(r) : r[c.key]))));
    show(wrap, h('table', {}, caption ? h('caption', {}, caption) : null, h('thead', {}, h('tr', {}, head)), h('tbody', {}, body)));
  };
  draw();
  return wrap;
}
