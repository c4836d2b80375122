// Trace search: the form (its state is the URL), a scatter plot of duration against start time, and the
// result list with each trace's root, services, span and error counts, paged with the API's cursor.

import { api } from '../api.js';
import { h, show, loading, failure, empty, dur, time, num, plural, colour, nsToMs } from '../format.js';
import { scatter } from '../chart.js';
import { searchForm, field, choice, attrField } from '../searchform.js';

const FIELDS = ['service', 'name', 'min_duration', 'max_duration', 'status', 'kind'];

export async function render(root, ctx) {
  document.title = 'Traces · ollyscale';
  const p = ctx.params;
  const services = h('datalist', { id: 'service-names' });
  const form = searchForm(ctx, 'Trace search', FIELDS,
  field(p, 'service', 'Service', { list: 'service-names', placeholder: 'any' }),
  field(p, 'name', 'Operation', { placeholder: 'span name, exact' }),
  field(p, 'min_duration', 'Min duration', { placeholder: 'e.g. 100ms', size: 8 }),
  field(p, 'max_duration', 'Max duration', { placeholder: 'e.g. 2s', size: 8 }),
  choice(p, 'status', 'Status', [['', 'any'], ['ERROR', 'error'], ['OK', 'ok'], ['UNSET', 'unset']]),
  choice(p, 'kind', 'Kind', [['', 'any'], ['SERVER', 'server'], ['CLIENT', 'client'], ['INTERNAL', 'internal'], ['PRODUCER', 'producer'], ['CONSUMER', 'consumer']]),
  attrField(p, 'http.response.status_code eq 500'),
  h('button', { type: 'submit' }, 'Search'), services);
  const plot = h('div', { class: 'plot' });
  const results = h('section', { 'aria-label': 'Results' }, loading('traces'));
  show(root, h('h1', {}, 'Traces'), form, plot, results);
  api('/services', { from: ctx.window.from, to: ctx.window.to })
    .then((d) => show(services, d.services.map((s) => h('option', { value: s.name }))))
    .catch(() => { /* the list only helps typing */ });

  const query = { from: ctx.window.from, to: ctx.window.to, attr: p.getAll('attr'), cursor: p.get('cursor'), limit: p.get('limit') ?? 50 };
  for (const k of FIELDS) query[k] = p.get(k);
  let page;
  try {
    page = await api('/traces/search', query);
  } catch (e) {
    show(results, failure(e));
    return;
  }
  if (!ctx.isCurrent()) return;
  const traces = page.traces;
  if (!traces.length) {
    show(results, empty(p.get('cursor') ? 'No more traces.' : 'No trace matches these filters in this time range.'));
    return;
  }
  const from = nsToMs(traces[traces.length - 1].start_time_unix_nano), to = nsToMs(traces[0].start_time_unix_nano);
  const pad = Math.max(1000, (to - from) * 0.03);
  const open = (t) => ctx.navigate(ctx.withRange(`/traces/${t.trace_id}`));
  show(plot, scatter({ title: 'Trace duration against start time', width: plot.clientWidth || 900, from: from - pad, to: to + pad, yFormat: dur,
    points: traces.map((t) => ({ x: nsToMs(t.start_time_unix_nano), y: t.duration_ns, error: t.error_count > 0,
      label: `${t.root_service ?? '?'}: ${t.root_name ?? '(root missing)'} ${dur(t.duration_ns)}`, onclick: () => open(t) })) }));
  const longest = Math.max(...traces.map((t) => t.duration_ns), 1);
  const rows = traces.map((t) => h('li', { class: 'trace-row', 'data-trace-id': t.trace_id },
    h('a', { href: ctx.withRange(`/traces/${t.trace_id}`), class: 'root' },
      h('span', { class: 'swatch', style: { background: colour(t.root_service) } }),
      h('strong', {}, t.root_service ?? '?'), ': ', t.root_name ?? '(root span not received)'),
    h('span', { class: 'when' }, time(t.start_time_unix_nano)),
    h('span', { class: 'bar-cell', 'aria-hidden': 'true' }, h('span', { class: t.error_count ? 'dur-bar error' : 'dur-bar', style: { width: `${Math.max(1, (100 * t.duration_ns) / longest)}%` } })),
    h('span', { class: 'num' }, dur(t.duration_ns)),
    h('span', { class: 'counts' }, plural(t.span_count, 'span'), t.error_count ? h('span', { class: 'bad' }, ` · ${plural(t.error_count, 'error')}`) : ''),
    h('span', { class: 'chips' }, t.services.map((s) => h('span', { class: 'chip', style: { borderColor: colour(s) } }, s)))));
  const nav = h('p', { class: 'pager' },
    p.get('cursor') ? h('button', { type: 'button', onclick: () => ctx.setParams({ cursor: null }) }, '« First page') : null,
    page.next_cursor ? h('button', { type: 'button', onclick: () => ctx.setParams({ cursor: page.next_cursor }) }, 'Next page »') : null);
  show(results, h('p', { class: 'muted' }, `${traces.length} traces, newest first`), h('ol', { class: 'traces' }, rows), nav);
}
