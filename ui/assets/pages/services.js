// The home page: every service with request rate, error rate and latency percentiles over the time range.

import { api } from '../api.js';
import { h, show, loading, empty, failure, table, dur, rate, pct, num, colour } from '../format.js';

export async function render(root, ctx) {
  document.title = 'Services · ollyscale';
  show(root, h('h1', {}, 'Services'), loading('services'));
  let data;
  try {
    data = await api('/services', { from: ctx.window.from, to: ctx.window.to });
  } catch (e) {
    show(root, h('h1', {}, 'Services'), failure(e));
    return;
  }
  if (!ctx.isCurrent()) return;
  const rows = data.services;
  if (!rows.length) {
    show(root, h('h1', {}, 'Services'), empty('No services sent spans in this time range. Point an OTLP exporter at port 4317 (gRPC) or 4318 (HTTP), or widen the range.'));
    return;
  }
  const link = (s) => h('a', { href: ctx.withRange(`/services/${encodeURIComponent(s.name)}`) },
    h('span', { class: 'swatch', style: { background: colour(s.name) } }), s.name);
  show(root, h('h1', {}, 'Services'),
    h('p', { class: 'muted' }, `${rows.length} services · entry spans (server, consumer, roots) per service`),
    table([
      { label: 'Service', key: 'name', render: link },
      { label: 'Requests', key: 'request_count', num: true, render: (s) => num(s.request_count) },
      { label: 'Rate /s', key: 'request_rate', num: true, render: (s) => rate(s.request_rate) },
      { label: 'Errors', key: 'error_rate', num: true, render: (s) => h('span', { class: s.error_count ? 'bad' : '' }, `${pct(s.error_rate)} (${num(s.error_count)})`) },
      { label: 'p50', key: 'p50_ns', num: true, render: (s) => dur(s.p50_ns) },
      { label: 'p95', key: 'p95_ns', num: true, render: (s) => dur(s.p95_ns) },
      { label: 'p99', key: 'p99_ns', num: true, render: (s) => dur(s.p99_ns) },
      { label: 'Spans', key: 'span_count', num: true, render: (s) => num(s.span_count) },
    ], rows, { sort: 'request_rate', caption: 'Services', rowAttrs: (s) => ({ 'data-service': s.name }) }));
  performance.mark('services-rendered');
}
