// The console's only door to the server: the same /v1 API as the CLI,
// authenticated by the session cookie, with the CSRF token on every state
// change.  Every failure comes back as an ApiError carrying the API's own
// {code, field, message}, so the page can show it next to the field.

let csrf = '';
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, code, field, message) {
    super(message);
    this.status = status;   // HTTP status, 0 when the request never got an answer
    this.code = code;       // the API's error code ("missing", "invalid", "network" ...)
    this.field = field;     // JSON path of the field at fault ("caller.phone"), or ""
  }
}

export function setCsrf(token) { csrf = token || ''; }
// Called with the ApiError when a request finds the session gone (401).
export function whenSignedOut(fn) { onSignedOut = fn; }

// request(METHOD, PATH, BODY?, HEADERS?) -> {status, body}; throws ApiError.
export async function request(method, path, body, headers = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrf) h['X-CSRF-Token'] = csrf;
  let resp;
  try {
    resp = await fetch(path, {
      method, headers: h, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network', '', 'The server did not answer (network).');
  }
  let data = null;
  const text = await resp.text().catch(() => '');
  if (text) { try { data = JSON.parse(text); } catch { data = null; } }
  if (resp.ok) return { status: resp.status, body: data, headers: resp.headers };
  const e = data && data.error ? data.error : {};
  const err = new ApiError(resp.status, e.code || `http_${resp.status}`, e.field || '',
    e.message || `The server answered ${resp.status}.`);
  err.retryAfter = Number(resp.headers.get('Retry-After')) || 0;
  if (resp.status === 401 && path !== '/v1/session') onSignedOut(err);
  return Promise.reject(err);
}

export const get = (path) => request('GET', path);
// A GET the page makes by itself (an event came, not the operator): the
// server does not count it as use, so an open board still times out.
export const getQuiet = (path) => request('GET', path, undefined, { 'X-Pagegate-Background': '1' });
export const post = (path, body, headers) => request('POST', path, body, headers);
export const del = (path) => request('DELETE', path);

// A fresh idempotency key: 128 random bits as hex.
export function newKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
