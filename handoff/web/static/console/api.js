// The console's HTTP client: same-origin fetch with the session cookie. The cookie alone is refused for a
// change, so every non-GET request carries the CSRF token from /login or /me.

let csrfToken = '';

export function setCsrfToken(token) {
  csrfToken = token || '';
}

export async function api(method, path, body) {
  const options = { method, credentials: 'same-origin', headers: {} };
  if (method !== 'GET' && csrfToken) { options.headers['X-CSRF-Token'] = csrfToken; }
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = data.error && data.error.message;
    const error = new Error(message || 'Request failed (' + response.status + ')');
    error.status = response.status;
    error.code = data.error && data.error.code;
    throw error;
  }
  return data;
}

export function conversationPath(conversationId, suffix = '') {
  return '/api/console/conversations/' + encodeURIComponent(conversationId) + suffix;
}
