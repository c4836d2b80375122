// The service map: services, databases and messaging systems as nodes, calls as edges with their counts and
// error rates, laid out in columns by call depth; clicking a service opens its page.

import { api } from '../api.js';
import { h, show, loading, failure, empty, plural, pct, colour } from '../format.js';

export async function render(root, ctx) {
  document.title = 'Service map · ollyscale';
  show(root, h('h1', {}, 'Service map'), loading('the map'));
  let m;
  try {
    m = await api('/service-map', { from: ctx.window.from, to: ctx.window.to });
  } catch (e) {
    show(root, h('h1', {}, 'Service map'), failure(e));
    return;
  }
  if (!ctx.isCurrent()) return;
  if (!m.edges.length) {
    show(root, h('h1', {}, 'Service map'), empty('No calls between services in this time range.'));
    return;
  }
  const key = (n) => `${n.type}:${n.name}`;
  // Column = longest call path from a node with no callers (cycles are cut by the visit limit).
  const depth = new Map(m.nodes.map((n) => [key(n), 0]));
  for (let pass = 0; pass < m.nodes.length; pass++) {
    let moved = false;
    for (const e of m.edges) {
      const s = depth.get(`service:${e.source}`), t = `${e.target_type}:${e.target}`;
      if (e.source !== e.target && depth.get(t) < s + 1) { depth.set(t, s + 1); moved = true; }
    }
    if (!moved) break;
  }
  const columns = [];
  for (const n of m.nodes) (columns[depth.get(key(n))] ??= []).push(n);
  const W = 190, NH = 46, GAPX = 170, GAPY = 30;
  const pos = new Map();
  columns.forEach((col, c) => col.forEach((n, r) => pos.set(key(n), { x: 20 + c * (W + GAPX), y: 20 + r * (NH + GAPY) })));
  const width = 40 + columns.length * (W + GAPX) - GAPX, height = 40 + Math.max(...columns.map((c) => c.length)) * (NH + GAPY) - GAPY;
  const svg = h('svg', { class: 'map', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Service map' },
    h('title', {}, 'Service map'),
    h('defs', {}, h('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, h('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }))));
  for (const e of m.edges) {
    const a = pos.get(`service:${e.source}`), b = pos.get(`${e.target_type}:${e.target}`);
    if (!a || !b) continue;
    const x1 = a.x + W, y1 = a.y + NH / 2, x2 = b.x, y2 = b.y + NH / 2;
    const rate = e.call_count ? e.error_count / e.call_count : 0;
    const loop = e.source === e.target;
    const d = loop ? `M${a.x + W - 30},${a.y} C${a.x + W},${a.y - 40} ${a.x + W + 40},${a.y} ${a.x + W},${a.y + 14}` : `M${x1},${y1} C${x1 + GAPX / 2},${y1} ${x2 - GAPX / 2},${y2} ${x2},${y2}`;
    const label = `${e.source} → ${e.target}: ${plural(e.call_count, 'call')}, ${pct(rate)} errors`;
    svg.append(h('g', { class: `edge${e.error_count ? ' error' : ''}`, 'data-source': e.source, 'data-target': e.target, 'data-calls': e.call_count },
      h('title', {}, label),
      h('path', { d, 'marker-end': 'url(#arrow)', style: { strokeWidth: `${1 + Math.min(5, Math.log10(1 + e.call_count))}px` } }),
      h('text', { x: x2 - 8, y: y2 - 7, 'text-anchor': 'end' }, `${plural(e.call_count, 'call')}${e.error_count ? ` · ${pct(rate)} errors` : ''}`)));
  }
  for (const n of m.nodes) {
    const p = pos.get(key(n));
    const isService = n.type === 'service';
    const g = h('g', { class: `node node-${n.type}`, 'data-node': n.name, transform: `translate(${p.x},${p.y})`, tabindex: isService ? 0 : null, role: isService ? 'link' : null,
      'aria-label': isService ? `Service ${n.name}` : `${n.type} ${n.name}` },
    h('rect', { width: W, height: NH, rx: n.type === 'database' ? 14 : 6, style: { stroke: isService ? colour(n.name) : null } }),
    h('text', { x: 12, y: 19 }, n.name.length > 24 ? n.name.slice(0, 23) + '…' : n.name),
    h('text', { x: 12, y: 36, class: 'kind' }, n.type));
    if (isService) {
      const go = () => ctx.navigate(ctx.withRange(`/services/${encodeURIComponent(n.name)}`));
      g.addEventListener('click', go);
      g.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(); });
    }
    svg.append(g);
  }
  show(root, h('h1', {}, 'Service map'), h('p', { class: 'muted' }, `${m.nodes.length} nodes, ${m.edges.length} edges; click a service to open it`), h('div', { class: 'map-wrap' }, svg));
}
