// Our own SVG charts: time-series lines, stacked bars and a scatter plot, with axes, keyboard-reachable
// points where they lead somewhere, and a title per chart for screen readers.

import { h } from './format.js';

const PAD = { left: 56, right: 12, top: 10, bottom: 24 };

/** Round tick values covering [lo, hi]. */
function ticks(lo, hi, n = 4) {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const TIME_STEPS = [1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400].map((s) => s * 1000);

/** Time ticks on round local clock times (whole minutes, quarter hours, hours...) covering [lo, hi]. */
function timeTicks(lo, hi, n) {
  const step = TIME_STEPS.find((s) => s >= (hi - lo) / n) ?? 86400e3;
  const offset = new Date(lo).getTimezoneOffset() * 60e3;
  const out = [];
  for (let v = Math.ceil((lo - offset) / step) * step + offset; v <= hi; v += step) out.push(v);
  return out;
}

function timeLabel(ms, spanMs) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (spanMs > 2 * 86400e3) return `${d.getMonth() + 1}/${d.getDate()} ${hm}`;
  return spanMs < 300e3 ? `${hm}:${pad(d.getSeconds())}` : hm;
}

/** The frame of a chart: scales, axes and grid, for x in [x0, x1] (ms) and y in [0 or min, max]. */
function frame({ width, height, x0, x1, y0, y1, yFormat, title, xTime = true }) {
  const w = Math.max(width, 200), iw = w - PAD.left - PAD.right, ih = height - PAD.top - PAD.bottom;
  const yt = ticks(y0, y1);
  const top = Math.max(y1, yt[yt.length - 1]);
  const sx = (x) => PAD.left + ((x - x0) / (x1 - x0 || 1)) * iw;
  const sy = (y) => PAD.top + ih - ((y - y0) / (top - y0 || 1)) * ih;
  const svg = h('svg', { class: 'chart', width: w, height, viewBox: `0 0 ${w} ${height}`, role: 'img', 'aria-label': title },
    h('title', {}, title));
  for (const v of yt) {
    svg.append(h('line', { class: 'grid', x1: PAD.left, x2: w - PAD.right, y1: sy(v), y2: sy(v) }),
      h('text', { class: 'tick', x: PAD.left - 6, y: sy(v) + 4, 'text-anchor': 'end' }, yFormat(v)));
  }
  const xt = xTime ? timeTicks(x0, x1, Math.max(2, Math.floor(iw / 110))) : [];
  for (const v of xt) {
    if (v < x0 || v > x1) continue;
    svg.append(h('text', { class: 'tick', x: sx(v), y: height - 6, 'text-anchor': 'middle' }, timeLabel(v, x1 - x0)));
  }
  svg.append(h('line', { class: 'axis', x1: PAD.left, x2: w - PAD.right, y1: sy(y0), y2: sy(y0) }));
  return { svg, sx, sy, iw, ih };
}

/** Lines over time: series [{name, colour, points: [[ms, value|null]]}]; gaps where a value is null. */
export function lineChart({ series, from, to, width, height = 180, yFormat = String, title }) {
  const values = series.flatMap((s) => s.points.map((p) => p[1]).filter((v) => v !== null && Number.isFinite(v)));
  const y0 = Math.min(0, ...values), y1 = Math.max(0, ...values);
  const { svg, sx, sy } = frame({ width, height, x0: from, x1: to, y0, y1: y1 > y0 ? y1 : y0 + 1, yFormat, title });
  for (const s of series) {
    let d = '', pen = 'M', n = 0;
    for (const [x, y] of s.points) {
      if (y === null || !Number.isFinite(y)) { pen = 'M'; continue; }
      d += `${pen}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
      pen = 'L';
      n++;
    }
    const path = h('path', { class: 'line', d: d || 'M0,0', 'data-series': s.name, 'data-points': n, style: { stroke: s.colour } });
    path.append(h('title', {}, s.name));
    svg.append(path);
    // A lone point between gaps has no line segment: draw it as a dot.
    if (n === 1 || s.points.length <= 2) {
      for (const [x, y] of s.points) if (y !== null) svg.append(h('circle', { cx: sx(x), cy: sy(y), r: 3, style: { fill: s.colour } }));
    }
  }
  return svg;
}

/** Stacked bars per time bucket: buckets [{x: ms, counts: {key: n}}], keys in stacking order with colours. */
export function stackedBars({ buckets, keys, colours, from, to, step, width, height = 140, title }) {
  const totals = buckets.map((b) => keys.reduce((s, k) => s + (b.counts[k] ?? 0), 0));
  const { svg, sx, sy } = frame({ width, height, x0: from, x1: to, y0: 0, y1: Math.max(1, ...totals), yFormat: (v) => String(v), title });
  const bw = Math.max(1, sx(from + step) - sx(from) - 1);
  buckets.forEach((b, i) => {
    let base = 0;
    for (const k of keys) {
      const n = b.counts[k] ?? 0;
      if (!n) continue;
      const r = h('rect', { class: 'bar', x: sx(b.x), width: bw, y: sy(base + n), height: sy(base) - sy(base + n), style: { fill: colours[k] }, 'data-key': k });
      r.append(h('title', {}, `${k}: ${n} at ${new Date(b.x).toLocaleString()}`));
      svg.append(r);
      base += n;
    }
    void i;
  });
  return svg;
}

/** Points of duration against time: [{x: ms, y: ns, error, label, onclick}]; a logarithmic y axis. */
export function scatter({ points, from, to, width, height = 200, yFormat, title }) {
  const ys = points.map((p) => Math.log10(Math.max(1, p.y)));
  const lo = Math.floor(Math.min(...ys, 6)), hi = Math.ceil(Math.max(...ys, lo + 1));
  const { svg, sx, sy } = frame({ width, height, x0: from, x1: to, y0: lo, y1: hi, yFormat: (v) => yFormat(10 ** v), title });
  points.forEach((p, i) => {
    const c = h('circle', { class: p.error ? 'dot error' : 'dot', cx: sx(p.x), cy: sy(ys[i]), r: 5, tabindex: 0, role: 'link', 'aria-label': p.label,
      onclick: p.onclick, onkeydown: (e) => { if (e.key === 'Enter') p.onclick(); } });
    c.append(h('title', {}, p.label));
    svg.append(c);
  });
  return svg;
}

/** A legend: [{name, colour}]. */
export function legend(items) {
  return h('ul', { class: 'legend' }, items.map((i) => h('li', {}, h('span', { class: 'swatch', style: { background: i.colour } }), i.name)));
}
