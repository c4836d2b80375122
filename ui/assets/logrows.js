// Log records as an expandable list: the logs explorer and the trace view show them the same way.

import { h, time, value } from './format.js';

/** The severity class of a severity number: TRACE 1-4, DEBUG 5-8, INFO 9-12, WARN 13-16, ERROR 17-20, FATAL 21-24. */
export function severity(n) {
  return n <= 0 ? 'UNSPECIFIED' : ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'][Math.min(5, Math.floor((n - 1) / 4))];
}

/** Every field of a record as a definition list. */
function fields(log) {
  const rows = [
    ['time', `${log.time} (${log.time_unix_nano})`], ['observed', log.observed_time ?? ''], ['severity', `${log.severity_text || severity(log.severity_number)} (${log.severity_number})`],
    ['service', log.service_name ?? ''], ['namespace', log.service_namespace ?? ''], ['scope', `${log.scope.name} ${log.scope.version}`.trim()],
    ['event', log.event_name], ['trace id', log.trace_id ?? ''], ['span id', log.span_id ?? ''], ['flags', log.flags],
  ].filter(([, v]) => v !== '' && v !== 0);
  const attrs = (title, a) => Object.keys(a).length ? [h('dt', { class: 'group' }, title), ...Object.entries(a).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, value(v))])] : [];
  return h('dl', { class: 'fields' }, rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]),
    attrs('Attributes', log.attributes), attrs('Resource attributes', log.resource_attributes));
}

/** A list of log records, each expandable; `traceLink(log)` gives the href of its trace, or null. */
export function logList(logs, traceLink) {
  return h('ol', { class: 'logs' }, logs.map((log) => {
    const sev = severity(log.severity_number);
    const body = typeof log.body === 'string' ? log.body : value(log.body);
    const details = h('details', { class: 'log', 'data-severity': sev },
      h('summary', {},
        h('span', { class: 'when' }, time(log.time_unix_nano)),
        h('span', { class: `sev sev-${sev}` }, log.severity_text || sev),
        h('span', { class: 'svc' }, log.service_name ?? ''),
        h('span', { class: 'body' }, body)),
      fields(log),
      log.trace_id && traceLink ? h('p', {}, h('a', { class: 'trace-link', href: traceLink(log) }, log.span_id ? 'Open its trace at this span' : 'Open its trace')) : null);
    return h('li', {}, details);
  }));
}
