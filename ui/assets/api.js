// The one client of /api/v2: query strings, the bearer token (asked for once, kept for the browser tab),
// and errors turned into sentences a person can act on.

const TOKEN_KEY = 'ollyscale.token';

/** An API answer other than success, with the server's code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** `/api/v2{path}?params` as a URL; arrays repeat their parameter, empty values are left out. */
export function apiUrl(path, params = {}) {
  const url = new URL('/api/v2' + path, location.origin);
  for (const [k, v] of Object.entries(params)) {
    for (const x of Array.isArray(v) ? v : [v]) {
      if (x !== undefined && x !== null && x !== '') url.searchParams.append(k, x);
    }
  }
  return url;
}

let pendingToken = null;

/** Shows the token dialog (once, however many requests wait for it) and resolves when a token is entered. */
function askToken() {
  if (pendingToken) return pendingToken;
  pendingToken = new Promise((resolve) => {
    const dialog = document.createElement('dialog');
    dialog.className = 'token';
    dialog.innerHTML = `<form method="dialog">
      <h2>This server needs a token</h2>
      <p>Enter the bearer token the server was started with. It is kept for this browser tab only.</p>
      <label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
      <button type="submit">Continue</button></form>`;
    document.body.append(dialog);
    const form = dialog.querySelector('form');
    form.addEventListener('submit', () => {
      sessionStorage.setItem(TOKEN_KEY, form.token.value.trim());
      dialog.remove();
      pendingToken = null;
      resolve();
    });
    dialog.addEventListener('cancel', (e) => e.preventDefault());
    dialog.showModal();
  });
  return pendingToken;
}

/** GETs `path` under /api/v2 and returns the parsed JSON; throws ApiError. */
export async function api(path, params = {}, { raw = false } = {}) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = 'Bearer ' + token;
  let resp;
  try {
    resp = await fetch(apiUrl(path, params), { headers });
  } catch {
    throw new ApiError(0, 'network', 'The ollyscale server is unreachable. Is it running?');
  }
  if (resp.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    await askToken();
    return api(path, params, { raw });
  }
  if (!resp.ok) {
    let code = 'http', message = `${resp.status} ${resp.statusText}`;
    try {
      const body = await resp.json();
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
    } catch { /* not our JSON */ }
    if (resp.status === 503 && code !== 'query_timeout') {
      message = `The database is unreachable (${message}). The server reconnects by itself; try again shortly.`;
    } else if (code === 'query_timeout') {
      message = 'The query took too long. Narrow the time range or add filters.';
    }
    throw new ApiError(resp.status, code, message);
  }
  return raw ? resp.text() : resp.json();
}
