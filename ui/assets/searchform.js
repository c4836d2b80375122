// The search forms of the trace search and the logs explorer: their fields start from the URL, and
// submitting puts them back into the URL (which re-renders the page), attribute filters one per line.

import { h } from './format.js';

/** A labelled text input whose value comes from the URL parameter `name`. */
export function field(params, name, label, attrs = {}) {
  return h('label', {}, label, h('input', { name, value: params.get(name) ?? '', ...attrs }));
}

/** A labelled select of [value, text] options, the URL parameter's value selected. */
export function choice(params, name, label, options) {
  return h('label', {}, label, h('select', { name },
    options.map(([v, t]) => h('option', { value: v, selected: (params.get(name) ?? '') === v }, t))));
}

/** The attribute filters, `key op value` one per line, from the repeated URL parameter `attr`. */
export function attrField(params, placeholder) {
  return h('label', { class: 'wide' }, 'Attributes (one per line: key op value; op eq ne gt lt gte lte contains matches not_matches exists)',
    h('textarea', { name: 'attr', rows: 1, placeholder }, params.getAll('attr').join('\n')));
}

/** A form whose submission sets the URL parameters `fields` and `attr` (one filter per line) and drops the cursor. */
export function searchForm(ctx, label, fields, ...controls) {
  const form = h('form', { class: 'search', 'aria-label': label, onsubmit: (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const changes = { cursor: null, attr: String(f.get('attr') ?? '').split('\n').map((s) => s.trim()).filter(Boolean) };
    for (const k of fields) changes[k] = String(f.get(k) ?? '').trim() || null;
    ctx.setParams(changes);
  } }, controls);
  return form;
}
