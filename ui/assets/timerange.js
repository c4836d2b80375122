// The time range of every page, kept in the URL: `range=15m|1h|6h|24h|7d` (relative to now, the default 1h),
// or `from` and `to` (a custom range, RFC 3339) so that a link shows the same window to anyone.

/** The preset ranges, in milliseconds. */
export const PRESETS = { '15m': 15 * 60e3, '1h': 3600e3, '6h': 6 * 3600e3, '24h': 24 * 3600e3, '7d': 7 * 24 * 3600e3 };

/** The window of `params` (URLSearchParams): {from, to} as ISO strings, and what chose it. */
export function windowOf(params) {
  const from = params.get('from');
  if (from) {
    return { from: isoOf(from), to: isoOf(params.get('to')) ?? new Date().toISOString(), custom: true };
  }
  const range = PRESETS[params.get('range')] ? params.get('range') : '1h';
  const now = Date.now();
  return { from: new Date(now - PRESETS[range]).toISOString(), to: new Date(now).toISOString(), range };
}

/** RFC 3339 or unix nanoseconds (as the API takes them) as an ISO string, null when absent. */
function isoOf(text) {
  if (!text) return null;
  if (/^\d+$/.test(text)) return new Date(Number(BigInt(text) / 1000000n)).toISOString();
  return text;
}

/** The value of a datetime-local input for an ISO time (local time, minutes). */
export function localInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
