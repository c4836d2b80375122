// One service: its rate, errors and latency over time, and its operations with RED figures.

import { api } from '../api.js';
import { h, show, loading, failure, empty, table, dur, rate, pct, num, nsToMs } from '../format.js';
import { lineChart, legend } from '../chart.js';

export async function render(root, ctx) {
  const name = decodeURIComponent(ctx.match[1]);
  document.title = `${name} · ollyscale`;
  const w = { from: ctx.window.from, to: ctx.window.to };
  const charts = h('div', { class: 'charts' }, loading('charts'));
  const ops = h('section', {}, loading('operations'));
  show(root, h('h1', {}, h('a', { href: ctx.withRange('/services') }, 'Services'), ' / ', name),
    h('p', { class: 'links' },
      h('a', { href: ctx.withRange(`/traces?service=${encodeURIComponent(name)}`) }, 'Traces of this service'), ' · ',
      h('a', { href: ctx.withRange(`/logs?service=${encodeURIComponent(name)}`) }, 'Logs of this service')),
    charts, h('h2', {}, 'Operations'), ops);
  const [series, operations] = await Promise.allSettled([
    api(`/services/${encodeURIComponent(name)}/series`, w),
    api(`/services/${encodeURIComponent(name)}/operations`, w),
  ]);
  if (!ctx.isCurrent()) return;
  if (series.status === 'rejected') show(charts, failure(series.reason));
  else {
    const pts = series.value.points;
    const from = nsToMs(series.value.window.from_unix_nano), to = nsToMs(series.value.window.to_unix_nano);
    // Three cards in a row: each card has 2 x 10px padding, 2px of border and a 12px gap.
    const width = Math.max(280, Math.floor(((charts.clientWidth || 900) - 24) / 3) - 24);
    const at = (p) => nsToMs(p.start_unix_nano);
    const card = (title, chart, items) => h('figure', { class: 'card' }, h('figcaption', {}, title), chart, items ? legend(items) : null);
    show(charts,
      card('Requests per second', lineChart({ title: 'Requests per second', width, from, to, yFormat: rate,
        series: [{ name: 'rate', colour: 'var(--accent)', points: pts.map((p) => [at(p), p.request_rate]) }] })),
      card('Error rate', lineChart({ title: 'Error rate', width, from, to, yFormat: (v) => pct(v),
        series: [{ name: 'errors', colour: 'var(--bad)', points: pts.map((p) => [at(p), p.request_count ? p.error_rate : null]) }] })),
      card('Latency', lineChart({ title: 'Latency', width, from, to, yFormat: (v) => dur(v),
        series: ['p50', 'p95', 'p99'].map((q, i) => ({ name: q, colour: LAT[i], points: pts.map((p) => [at(p), p[`${q}_ns`]]) })) }),
      ['p50', 'p95', 'p99'].map((q, i) => ({ name: q, colour: LAT[i] }))));
  }
  if (operations.status === 'rejected') show(ops, failure(operations.reason));
  else if (!operations.value.operations.length) show(ops, empty('No spans of this service in this time range.'));
  else {
    const opLink = (o) => h('a', { href: ctx.withRange(`/traces?service=${encodeURIComponent(name)}&name=${encodeURIComponent(o.name)}`) }, o.name);
    show(ops, table([
      { label: 'Operation', key: 'name', render: opLink },
      { label: 'Kind', key: 'kind' },
      { label: 'Spans', key: 'count', num: true, render: (o) => num(o.count) },
      { label: 'Rate /s', key: 'rate', num: true, render: (o) => rate(o.rate) },
      { label: 'Errors', key: 'error_rate', num: true, render: (o) => h('span', { class: o.error_count ? 'bad' : '' }, `${pct(o.error_rate)} (${num(o.error_count)})`) },
      { label: 'p50', key: 'p50_ns', num: true, render: (o) => dur(o.p50_ns) },
      { label: 'p95', key: 'p95_ns', num: true, render: (o) => dur(o.p95_ns) },
      { label: 'p99', key: 'p99_ns', num: true, render: (o) => dur(o.p99_ns) },
    ], operations.value.operations, { sort: 'count', caption: 'Operations' }));
  }
}

const LAT = ['hsl(200 70% 45%)', 'hsl(35 90% 50%)', 'hsl(340 70% 50%)'];
