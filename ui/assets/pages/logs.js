// The logs explorer: search by service, minimum severity, body text and attributes; a volume histogram by
// severity; newest records first, each expandable, with a link to its trace; and a live tail.

import { api } from '../api.js';
import { h, show, loading, failure, empty, nsToMs } from '../format.js';
import { stackedBars, legend } from '../chart.js';
import { logList } from '../logrows.js';
import { searchForm, field, choice, attrField } from '../searchform.js';

const CLASSES = ['FATAL', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE', 'UNSPECIFIED'];
const COLOURS = { FATAL: 'hsl(300 60% 45%)', ERROR: 'hsl(0 70% 50%)', WARN: 'hsl(38 95% 50%)', INFO: 'hsl(205 70% 50%)', DEBUG: 'hsl(160 40% 45%)', TRACE: 'hsl(0 0% 60%)', UNSPECIFIED: 'hsl(0 0% 75%)' };
const FIELDS = ['service', 'min_severity', 'body', 'trace_id'];
const TAIL_EVERY = 2000;

export async function render(root, ctx) {
  document.title = 'Logs · ollyscale';
  const p = ctx.params;
  const live = p.get('live') === '1';
  const form = searchForm(ctx, 'Log search', FIELDS,
  field(p, 'service', 'Service', { placeholder: 'any' }),
  choice(p, 'min_severity', 'Min severity', [['', 'any'], ['DEBUG', 'debug'], ['INFO', 'info'], ['WARN', 'warn'], ['ERROR', 'error'], ['FATAL', 'fatal']]),
  field(p, 'body', 'Body contains', { placeholder: 'text', size: 24 }),
  field(p, 'trace_id', 'Trace id', { placeholder: '32 hex digits', size: 34 }),
  attrField(p, 'http.route eq /cart'),
  h('button', { type: 'submit' }, 'Search'),
  h('button', { type: 'button', 'aria-pressed': String(live), onclick: () => ctx.setParams({ live: live ? null : '1', cursor: null }) }, live ? 'Stop live tail' : 'Live tail'));
  const chart = h('div', { class: 'plot' }, loading('volume'));
  const list = h('section', { 'aria-label': 'Log records' }, loading('log records'));
  show(root, h('h1', {}, 'Logs'), form, chart, list);

  const filters = { service: p.get('service'), min_severity: p.get('min_severity'), body: p.get('body'), trace_id: p.get('trace_id'), attr: p.getAll('attr') };
  const traceLink = (l) => ctx.withRange(`/traces/${l.trace_id}${l.span_id ? `?span=${l.span_id}` : ''}`);

  const volume = async () => {
    try {
      const v = await api('/logs/volume', { ...filters, from: ctx.window.from, to: ctx.window.to });
      if (!ctx.isCurrent()) return;
      const from = nsToMs(v.window.from_unix_nano), to = nsToMs(v.window.to_unix_nano);
      const present = CLASSES.filter((c) => v.buckets.some((b) => b.counts[c]));
      show(chart, stackedBars({ title: 'Log records per severity over time', width: chart.clientWidth || 900, from, to, step: v.step_ns / 1e6, keys: [...present].reverse(), colours: COLOURS,
        buckets: v.buckets.map((b) => ({ x: nsToMs(b.start_unix_nano), counts: b.counts })) }),
      legend(present.map((c) => ({ name: c, colour: COLOURS[c] }))));
    } catch (e) {
      show(chart, failure(e));
    }
  };

  const page = async () => {
    try {
      const r = await api('/logs/search', { ...filters, from: ctx.window.from, to: ctx.window.to, cursor: p.get('cursor'), limit: 100 });
      if (!ctx.isCurrent()) return;
      if (!r.logs.length) {
        show(list, empty(p.get('cursor') ? 'No more log records.' : 'No log record matches these filters in this time range.'));
        return;
      }
      show(list, logList(r.logs, traceLink),
        h('p', { class: 'pager' }, p.get('cursor') ? h('button', { type: 'button', onclick: () => ctx.setParams({ cursor: null }) }, '« Newest') : null,
          r.next_cursor ? h('button', { type: 'button', onclick: () => ctx.setParams({ cursor: r.next_cursor }) }, 'Older »') : null));
    } catch (e) {
      show(list, failure(e));
    }
  };

  volume();
  if (!live) {
    await page();
    return;
  }
  // Live tail: first the newest records of the range, then every two seconds the ones newer than the newest
  // shown, prepended; at most 1000 kept.
  let newest = null;
  const items = [];
  const tail = async () => {
    try {
      const since = newest === null ? { from: ctx.window.from, limit: 100 } : { from: (newest + 1n).toString(), limit: 500 };
      const r = await api('/logs/search', { ...filters, ...since });
      if (!ctx.isCurrent()) return;
      if (r.logs.length) {
        newest = BigInt(r.logs[0].time_unix_nano);
        items.unshift(...r.logs);
        items.length = Math.min(items.length, 1000);
      }
      show(list, h('p', { class: 'muted', role: 'status' }, `Live: following new records (${items.length} shown)…`),
        items.length ? logList(items, traceLink) : empty('Waiting for new log records…'));
    } catch (e) {
      show(list, failure(e));
    }
  };
  await tail();
  const timer = setInterval(tail, TAIL_EVERY);
  return () => clearInterval(timer);
}
