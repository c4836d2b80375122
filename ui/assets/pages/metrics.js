// The metrics explorer: find a metric by name, then line charts of its series (gauges as values, sums as
// rates, histograms and summaries as quantiles), with a chosen aggregation and step and a legend made from
// each series' attributes.

import { api } from '../api.js';
import { h, show, loading, failure, empty, value, nsToMs, colour } from '../format.js';
import { lineChart, legend } from '../chart.js';

const AGGS = { gauge: ['last', 'avg', 'min', 'max'], sum: ['rate', 'delta', 'last', 'avg', 'min', 'max'], histogram: ['quantiles'], exponential_histogram: ['quantiles'], summary: ['quantiles'] };
const QUANTILES = ['p50', 'p90', 'p95', 'p99'];

const fmt = (v) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(1) : Number(v.toPrecision(3)).toString());

/** A series' legend: its service and attributes. */
function seriesName(s) {
  const attrs = Object.entries(s.attributes).map(([k, v]) => `${k}=${value(v)}`).join(', ');
  return `${s.service_name ?? '?'}${attrs ? ` {${attrs}}` : ''}`;
}

export async function render(root, ctx) {
  document.title = 'Metrics · ollyscale';
  const p = ctx.params;
  const name = p.get('name');
  const found = h('section', { 'aria-label': 'Metrics found' });
  const charts = h('section', { 'aria-label': 'Charts' });
  const form = h('form', { class: 'search', 'aria-label': 'Metric', onsubmit: (e) => {
    e.preventDefault();
    const f = new FormData(form);
    ctx.setParams({ name: String(f.get('name')).trim() || null, agg: f.get('agg') || null, step: String(f.get('step') ?? '').trim() || null, cursor: null });
  } },
  h('label', {}, 'Metric name', h('input', { name: 'name', value: name ?? '', placeholder: 'name or part of it', size: 32 })),
  h('label', {}, 'Aggregation', h('select', { name: 'agg' }, ['', 'last', 'avg', 'min', 'max', 'rate', 'delta', 'quantiles']
    .map((a) => h('option', { value: a, selected: (p.get('agg') ?? '') === a }, a || 'default')))),
  h('label', {}, 'Step', h('input', { name: 'step', value: p.get('step') ?? '', placeholder: 'auto, e.g. 1m', size: 8 })),
  h('button', { type: 'submit' }, 'Show'));
  show(root, h('h1', {}, 'Metrics'), form, found, charts);

  // The metrics whose names contain the text, so a partial name finds the exact one.
  show(found, loading('metrics'));
  let metrics;
  try {
    metrics = (await api('/metrics/search', { from: ctx.window.from, to: ctx.window.to, name: name ?? undefined, limit: 200 })).metrics;
  } catch (e) {
    show(found, failure(e));
    return;
  }
  if (!ctx.isCurrent()) return;
  const exact = metrics.find((m) => m.name === name);
  show(found, metrics.length
    ? h('ul', { class: 'metric-list' }, metrics.map((m) => h('li', {}, h('a', { href: ctx.withRange(`/metrics?name=${encodeURIComponent(m.name)}`), 'aria-current': m === exact ? 'true' : null }, m.name),
      h('span', { class: 'muted' }, ` ${m.type}${m.unit ? ` · ${m.unit}` : ''}${m.description ? ` · ${m.description}` : ''}`))))
    : empty(name ? `No metric named like "${name}" has data points in this time range.` : 'No metrics in this time range.'));
  if (!exact) return;

  show(charts, loading('series'));
  let r;
  try {
    r = await api('/metrics/series', { name: exact.name, from: ctx.window.from, to: ctx.window.to, agg: AGGS[exact.type].includes(p.get('agg')) ? p.get('agg') : undefined, step: p.get('step'), limit: 20 });
  } catch (e) {
    show(charts, failure(e));
    return;
  }
  if (!ctx.isCurrent()) return;
  const from = nsToMs(r.window.from_unix_nano), to = nsToMs(r.window.to_unix_nano);
  const width = Math.min(charts.clientWidth || 900, 1200);
  const heading = h('h2', {}, exact.name, h('span', { class: 'muted' }, ` ${r.agg}${exact.unit ? ` (${exact.unit}${r.agg === 'rate' ? '/s' : ''})` : ''}, step ${r.step_ns / 1e9}s`));
  if (!r.series.length) {
    show(charts, heading, empty('No data points in this time range.'));
    return;
  }
  if (r.agg === 'quantiles') {
    const colours = ['hsl(200 70% 45%)', 'hsl(150 50% 40%)', 'hsl(35 90% 50%)', 'hsl(340 70% 50%)'];
    show(charts, heading, r.series.map((s) => h('figure', { class: 'card' }, h('figcaption', {}, seriesName(s)),
      lineChart({ title: `${exact.name} quantiles of ${seriesName(s)}`, width, from, to, yFormat: fmt,
        series: QUANTILES.map((q, i) => ({ name: q, colour: colours[i], points: s.points.map((pt) => [nsToMs(pt.time_unix_nano), pt[q]]) })) }),
      legend(QUANTILES.map((q, i) => ({ name: q, colour: colours[i] }))))));
  } else {
    const series = r.series.map((s) => ({ name: seriesName(s), colour: colour(seriesName(s)), points: s.points.map((pt) => [nsToMs(pt.time_unix_nano), pt.value]) }));
    show(charts, heading, h('figure', { class: 'card' }, lineChart({ title: `${exact.name} ${r.agg}`, width, from, to, height: 260, yFormat: fmt, series }), legend(series)));
  }
  if (r.next_cursor) charts.append(h('p', { class: 'muted' }, 'More series exist; narrow the query to see others.'));
}
