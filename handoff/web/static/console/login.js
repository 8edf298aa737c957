// Sign in and out. A session that is still valid (/me) skips the form.

import { api, setCsrfToken } from './api.js';
import { byId, onClick } from './dom.js';

function showLoginError(message) {
  byId('login-error').textContent = message;
  byId('login-error').hidden = !message;
}

function bindLoginForm(onSignedIn) {
  byId('login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    showLoginError('');
    const credentials = { username: byId('login-username').value, password: byId('login-password').value };
    try {
      const data = await api('POST', '/api/console/login', credentials);
      setCsrfToken(data.csrf_token);
      onSignedIn(data.user);
    } catch (error) {
      showLoginError(error.message);
    }
  });
}

function bindLogout() {
  onClick('logout-button', () => {
    api('POST', '/api/console/logout').catch(() => {}).finally(() => location.reload());
  });
}

// Calls onSignedIn(user) once: with the current session's user, or after the form signs someone in.
export async function startSession(onSignedIn) {
  bindLoginForm(onSignedIn);
  bindLogout();
  let user;
  try {
    user = await api('GET', '/api/console/me');
  } catch (error) {
    byId('login-view').hidden = false;
    return;
  }
  setCsrfToken(user.csrf_token);
  onSignedIn(user);
}
