// The trace view: a waterfall of the span tree on a time axis (collapsible, colour per service, errors
// marked), a minimap to zoom into a part of a long trace, and the selected span's details. Only the rows in
// view are in the page, so a trace of ten thousand spans scrolls like a small one.

import { api } from '../api.js';
import { h, show, loading, failure, empty, dur, time, plural, value, colour } from '../format.js';
import { legend } from '../chart.js';
import { logList } from '../logrows.js';

const ROW = 24;
const OVERSCAN = 12;

export async function render(root, ctx) {
  const id = ctx.match[1].toLowerCase();
  document.title = `Trace ${id.slice(0, 8)} · ollyscale`;
  show(root, h('h1', {}, 'Trace ', h('code', {}, id)), loading('the trace'));
  let trace;
  try {
    trace = await api(`/traces/${id}`);
  } catch (e) {
    show(root, h('h1', {}, 'Trace ', h('code', {}, id)),
      e.status === 404 ? empty('No trace with this id is stored (it may be older than the retention, or not sent yet).') : failure(e));
    return;
  }
  if (!ctx.isCurrent()) return;
  return view(root, ctx, trace);
}

function view(root, ctx, trace) {
  const spans = trace.spans;
  const t0 = BigInt(trace.start_time_unix_nano);
  const total = Math.max(1, trace.duration_ns);
  // Offsets from the trace start in nanoseconds, as numbers (a trace is far shorter than 2^53 ns).
  for (const s of spans) {
    s._off = Number(BigInt(s.start_time_unix_nano) - t0);
    s._children = 0;
  }
  const byId = new Map(spans.map((s, i) => [s.span_id, i]));
  for (const s of spans) if (s.parent_span_id && byId.has(s.parent_span_id)) spans[byId.get(s.parent_span_id)]._children++;
  const services = [...new Set(spans.map((s) => s.service_name ?? '?'))];
  const errors = spans.filter((s) => s.status.code === 'ERROR').length;
  const root0 = spans[0];

  const collapsed = new Set();
  let visible = [];
  let viewFrom = 0, viewTo = total;
  let selected = ctx.params.get('span');

  const recompute = () => {
    visible = [];
    let skipBelow = Infinity;
    for (let i = 0; i < spans.length; i++) {
      const s = spans[i];
      if (s.depth > skipBelow) continue;
      skipBelow = Infinity;
      visible.push(i);
      if (collapsed.has(s.span_id)) skipBelow = s.depth;
    }
    spacer.style.height = `${visible.length * ROW}px`;
  };

  const axis = h('div', { class: 'wf-axis', 'aria-hidden': 'true' });
  const spacer = h('div', { class: 'wf-spacer' });
  const viewport = h('div', { class: 'wf-viewport', role: 'tree', 'aria-label': 'Spans of the trace', onscroll: () => schedule() }, spacer);
  const panel = h('aside', { class: 'span-panel', 'aria-label': 'Span details' }, empty('Select a span to see its attributes, events, links and logs.'));
  const mini = minimap(spans, total, (a, b) => { viewFrom = a; viewTo = b; drawAxis(); draw(); });

  const drawAxis = () => show(axis, [0, 0.25, 0.5, 0.75, 1].map((f) =>
    h('span', { style: { left: `${f * 100}%` } }, dur(Math.round(viewFrom + f * (viewTo - viewFrom))))));

  let pending = false;
  const schedule = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; draw(); });
  };

  const row = (i) => {
    const s = spans[i];
    const isErr = s.status.code === 'ERROR';
    const span = viewTo - viewFrom;
    const left = ((s._off - viewFrom) / span) * 100;
    const width = Math.max(0.15, (s.duration_ns / span) * 100);
    const toggle = s._children
      ? h('button', { type: 'button', class: 'toggle', tabindex: -1, 'aria-label': collapsed.has(s.span_id) ? 'Expand' : 'Collapse',
        onclick: (e) => { e.stopPropagation(); toggleSpan(s); } }, collapsed.has(s.span_id) ? '▸' : '▾')
      : h('span', { class: 'toggle' });
    const events = s.events.map((ev) => {
      const at = Number(BigInt(ev.time_unix_nano) - t0);
      return h('span', { class: 'event-tick', title: ev.name, style: { left: `${((at - viewFrom) / span) * 100}%` } });
    });
    return h('div', {
      class: `span-row${isErr ? ' error' : ''}${s.span_id === selected ? ' selected' : ''}`, role: 'treeitem', tabindex: 0,
      'aria-level': s.depth + 1, 'aria-expanded': s._children ? String(!collapsed.has(s.span_id)) : null,
      'aria-selected': String(s.span_id === selected), 'data-span-id': s.span_id, 'data-depth': s.depth,
      onclick: () => select(s.span_id),
      onkeydown: (e) => keys(e, s),
    },
    h('div', { class: 'wf-name', style: { paddingLeft: `${s.depth * 14 + 4}px` } }, toggle,
      h('span', { class: 'swatch', style: { background: colour(s.service_name) } }),
      isErr ? h('span', { class: 'bad', role: 'img', 'aria-label': 'error' }, '⚠ ') : null,
      h('span', { class: 'svc' }, s.service_name ?? '?'), ' ', h('span', { class: 'op' }, s.name)),
    h('div', { class: 'wf-track' },
      h('span', { class: 'wf-bar', style: { left: `${left}%`, width: `${width}%`, background: colour(s.service_name) } }),
      events,
      // The duration follows the bar, or sits inside its end when the bar reaches the right edge.
      left + width > 88
        ? h('span', { class: 'wf-dur inside', style: { right: `${Math.max(0, 100 - left - width)}%` } }, dur(s.duration_ns))
        : h('span', { class: 'wf-dur', style: { left: `${left + width}%` } }, dur(s.duration_ns))));
  };

  const draw = () => {
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW) - OVERSCAN);
    const last = Math.min(visible.length, Math.ceil((viewport.scrollTop + viewport.clientHeight) / ROW) + OVERSCAN);
    const rows = [];
    for (let k = first; k < last; k++) {
      const el = row(visible[k]);
      el.style.top = `${k * ROW}px`;
      rows.push(el);
    }
    spacer.replaceChildren(...rows);
  };

  const toggleSpan = (s) => {
    if (collapsed.has(s.span_id)) collapsed.delete(s.span_id);
    else collapsed.add(s.span_id);
    recompute();
    draw();
    viewport.querySelector(`[data-span-id="${s.span_id}"]`)?.focus();
  };

  const keys = (e, s) => {
    const k = visible.indexOf(byId.get(s.span_id));
    const focus = (n) => {
      if (n < 0 || n >= visible.length) return;
      const target = spans[visible[n]].span_id;
      if (n * ROW < viewport.scrollTop || (n + 1) * ROW > viewport.scrollTop + viewport.clientHeight) viewport.scrollTop = n * ROW - viewport.clientHeight / 2;
      draw();
      viewport.querySelector(`[data-span-id="${target}"]`)?.focus();
    };
    if (e.key === 'ArrowDown') focus(k + 1);
    else if (e.key === 'ArrowUp') focus(k - 1);
    else if (e.key === 'ArrowLeft' && s._children && !collapsed.has(s.span_id)) toggleSpan(s);
    else if (e.key === 'ArrowRight' && s._children && collapsed.has(s.span_id)) toggleSpan(s);
    else if (e.key === 'Enter' || e.key === ' ') select(s.span_id);
    else return;
    e.preventDefault();
  };

  const select = (spanId) => {
    selected = spanId;
    const q = new URLSearchParams(location.search);
    q.set('span', spanId);
    history.replaceState(null, '', `${location.pathname}?${q}`);
    draw();
    const i = byId.get(spanId);
    if (i !== undefined) show(panel, details(spans[i], trace, t0, ctx));
  };

  const download = h('button', { type: 'button', onclick: async () => {
    try {
      const text = await api(`/traces/${trace.trace_id}`, { format: 'otlp' }, { raw: true });
      const a = h('a', { href: URL.createObjectURL(new Blob([text], { type: 'application/json' })), download: `trace-${trace.trace_id}.json` });
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10e3);
    } catch (e) {
      alert(e.message);
    }
  } }, 'Download OTLP JSON');
  const traceLogs = h('section', { class: 'trace-logs', 'aria-label': 'Logs of this trace' });
  const logsButton = h('button', { type: 'button', 'aria-expanded': 'false', onclick: () => {
    const open = logsButton.getAttribute('aria-expanded') !== 'true';
    logsButton.setAttribute('aria-expanded', String(open));
    if (open) loadLogs(traceLogs, `/logs/trace/${trace.trace_id}`, ctx, 'this trace');
    else traceLogs.replaceChildren();
  } }, 'Logs of this trace');

  show(root,
    h('h1', {}, h('span', { class: 'swatch', style: { background: colour(root0?.service_name) } }), root0?.service_name ?? '?', ': ', root0?.name ?? ''),
    h('p', { class: 'summary' }, h('code', {}, trace.trace_id), ` · ${time(trace.start_time_unix_nano)} · ${dur(trace.duration_ns)} · ${plural(trace.span_count, 'span')} · ${plural(services.length, 'service')}`,
      errors ? h('span', { class: 'bad' }, ` · ${plural(errors, 'error')}`) : '', ' ', download, ' ', logsButton),
    legend(services.map((s) => ({ name: s, colour: colour(s) }))),
    traceLogs,
    h('div', { class: 'trace-layout' },
      h('section', { class: 'waterfall', 'aria-label': 'Waterfall' }, mini.el,
        h('div', { class: 'wf-head' }, h('div', { class: 'wf-name' }, 'Service and operation'), axis), viewport),
      panel));
  // Long traces open with the deepest levels folded would hide where time goes; all levels stay open, and
  // the viewport keeps the page light.
  recompute();
  drawAxis();
  draw();
  mini.draw();
  if (selected && byId.has(selected)) {
    select(selected);
    const k = visible.indexOf(byId.get(selected));
    viewport.scrollTop = Math.max(0, k * ROW - viewport.clientHeight / 2);
    draw();
  }
  performance.mark('waterfall-rendered');
  const onResize = () => { mini.draw(); draw(); };
  window.addEventListener('resize', onResize);
  return () => window.removeEventListener('resize', onResize);
}

/** A canvas overview of every span; dragging across it zooms the waterfall to that time, a double click resets. */
function minimap(spans, total, onZoom) {
  const canvas = h('canvas', { class: 'minimap-canvas', height: 48, 'aria-hidden': 'true' });
  const sel = h('div', { class: 'minimap-sel', hidden: true });
  const reset = h('button', { type: 'button', class: 'reset', hidden: true, onclick: () => { sel.hidden = true; reset.hidden = true; onZoom(0, total); } }, 'Reset zoom');
  const el = h('div', { class: 'minimap', title: 'Drag to zoom into a time range; double-click to reset' }, canvas, sel, reset);
  const draw = () => {
    const w = (canvas.width = el.clientWidth || 800), hgt = canvas.height;
    const g = canvas.getContext('2d');
    g.clearRect(0, 0, w, hgt);
    const n = spans.length, rowH = Math.max(hgt / n, 0.5);
    spans.forEach((s, i) => {
      g.fillStyle = s.status.code === 'ERROR' ? '#d33' : colour(s.service_name);
      g.fillRect((s._off / total) * w, (i / n) * hgt, Math.max(1, (s.duration_ns / total) * w), Math.max(1, rowH));
    });
  };
  let startX = null;
  const x = (e) => Math.min(Math.max(0, e.clientX - el.getBoundingClientRect().left), el.clientWidth);
  el.addEventListener('pointerdown', (e) => { if (e.target === reset) return; startX = x(e); el.setPointerCapture(e.pointerId); });
  el.addEventListener('pointermove', (e) => {
    if (startX === null) return;
    const a = Math.min(startX, x(e)), b = Math.max(startX, x(e));
    Object.assign(sel.style, { left: `${a}px`, width: `${b - a}px` });
    sel.hidden = false;
  });
  el.addEventListener('pointerup', (e) => {
    if (startX === null) return;
    const a = Math.min(startX, x(e)), b = Math.max(startX, x(e));
    startX = null;
    if (b - a < 3) { sel.hidden = true; return; }
    reset.hidden = false;
    onZoom((a / el.clientWidth) * total, (b / el.clientWidth) * total);
  });
  el.addEventListener('dblclick', () => reset.click());
  return { el, draw };
}

function attrTable(title, attrs) {
  const entries = Object.entries(attrs ?? {});
  return h('section', { class: 'attrs' }, h('h3', {}, title),
    entries.length ? h('table', { class: 'kv' }, h('tbody', {}, entries.sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) =>
      h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, value(v)))))) : h('p', { class: 'muted' }, 'none'));
}

function details(s, trace, t0, ctx) {
  const off = (ns) => dur(Number(BigInt(ns) - BigInt(s.start_time_unix_nano)));
  const logs = h('section', { class: 'span-logs' });
  return [
    h('h2', {}, h('span', { class: 'swatch', style: { background: colour(s.service_name) } }), s.name),
    h('dl', { class: 'facts' },
      [['Service', s.service_name ?? '?'], ['Kind', s.kind], ['Status', s.status.message ? `${s.status.code}: ${s.status.message}` : s.status.code],
        ['Duration', dur(s.duration_ns)], ['Starts at', `+${dur(Number(BigInt(s.start_time_unix_nano) - t0))}`], ['Span id', s.span_id],
        ['Parent', s.parent_span_id ?? '(root)']].flatMap(([k, v]) => [h('dt', {}, k), h('dd', { class: k === 'Status' && s.status.code === 'ERROR' ? 'bad' : '' }, v)])),
    attrTable('Span attributes', s.attributes),
    attrTable('Resource attributes', s.resource?.attributes),
    attrTable(`Scope attributes${s.scope ? ` (${s.scope.name} ${s.scope.version})`.replace(' ()', '') : ''}`, s.scope?.attributes),
    h('section', {}, h('h3', {}, `Events (${s.events.length})`),
      s.events.length ? h('ol', { class: 'events' }, s.events.map((e) => h('li', {}, h('strong', {}, `+${off(e.time_unix_nano)} `), e.name,
        Object.keys(e.attributes).length ? attrTable('Attributes', e.attributes) : null))) : h('p', { class: 'muted' }, 'none')),
    h('section', {}, h('h3', {}, `Links (${s.links.length})`),
      s.links.length ? h('ul', {}, s.links.map((l) => h('li', {}, h('a', { class: 'span-link', href: ctx.withRange(`/traces/${l.trace_id}?span=${l.span_id}`) }, `${l.trace_id} / ${l.span_id}`),
        Object.keys(l.attributes).length ? attrTable('Attributes', l.attributes) : null))) : h('p', { class: 'muted' }, 'none')),
    h('p', {}, h('button', { type: 'button', onclick: () => loadLogs(logs, `/logs/trace/${trace.trace_id}/span/${s.span_id}`, ctx, 'this span') }, 'Logs of this span')),
    logs,
  ];
}

async function loadLogs(el, path, ctx, what) {
  show(el, loading('logs'));
  try {
    const page = await api(path, { limit: 500 });
    show(el, h('h3', {}, `Logs of ${what}`), page.logs.length ? logList(page.logs, null) : empty(`No log records carry ${what}'s id.`));
  } catch (e) {
    show(el, failure(e));
  }
}
