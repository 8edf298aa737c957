// Canned responses (issue 17): specialists insert one into the reply box with {first_name}, {total_due} and
// {due_date} filled from the customer's account (nothing is sent until they press Send); supervisors keep
// the list on their own screen.

import { api, conversationPath } from './api.js';
import { byId, button, el, notify, onClick } from './dom.js';

let responses = [];

function fillSelect() {
  const select = byId('canned-select');
  const first = el('option', null, null, responses.length ? 'Choose…' : 'None yet');
  first.value = '';
  const options = responses.map((response) => {
    const option = el('option', null, null, response.title);
    option.value = String(response.id);
    return option;
  });
  select.replaceChildren(first, ...options);
}

export async function loadCanned() {
  try {
    responses = (await api('GET', '/api/console/canned-responses')).responses;
  } catch (error) { responses = []; }
  fillSelect();
  renderAdminList();
}

async function insert(conversation) {
  const id = conversation.currentId();
  const responseId = byId('canned-select').value;
  if (!id || !responseId) { return; }
  try {
    const filled = await api('GET', conversationPath(id, '/canned-responses/' + responseId));
    const input = byId('agent-input');
    input.value = input.value ? input.value.trimEnd() + ' ' + filled.text : filled.text;
    input.focus();
    const missing = byId('canned-missing');
    missing.hidden = filled.missing.length === 0;
    missing.textContent = filled.missing.length ?
      'Not filled (check before sending): ' + filled.missing.map((name) => '{' + name + '}').join(', ') : '';
  } catch (error) {
    notify(error.message);
  }
}

export function bindCanned({ conversation }) {
  onClick('canned-insert', () => insert(conversation));
  loadCanned();
}

// -- the supervisor's list ---------------------------------------------------------------------------------

function edit(response) {
  byId('canned-id').value = response ? String(response.id) : '';
  byId('canned-title').value = response ? response.title : '';
  byId('canned-body').value = response ? response.body : '';
  byId('canned-title').focus();
}

function adminItem(response) {
  const item = el('li', null, 'canned-admin-item');
  item.setAttribute('data-canned-id', String(response.id));
  item.appendChild(el('strong', null, 'canned-admin-title', response.title));
  item.appendChild(el('p', null, 'canned-admin-body', response.body));
  item.appendChild(button('Edit', 'canned-edit', () => edit(response)));
  item.appendChild(button('Delete', 'canned-delete', async () => {
    if (!window.confirm('Delete "' + response.title + '"?')) { return; }
    try {
      await api('POST', '/api/console/canned-responses/' + response.id + '/delete');
      loadCanned();
    } catch (error) { notify(error.message); }
  }));
  return item;
}

function renderAdminList() {
  const list = byId('canned-list');
  if (list) { list.replaceChildren(...responses.map(adminItem)); }
}

async function save() {
  const id = byId('canned-id').value;
  const body = { title: byId('canned-title').value, body: byId('canned-body').value };
  try {
    await api('POST', '/api/console/canned-responses' + (id ? '/' + id : ''), body);
    edit(null);
    notify('Saved.');
    loadCanned();
  } catch (error) {
    notify(error.message);
  }
}

export function bindCannedAdmin({ show }) {
  const nav = byId('nav-canned');
  nav.hidden = false;
  onClick('nav-canned', () => { show('canned-view'); loadCanned(); });
  byId('canned-form').addEventListener('submit', (event) => { event.preventDefault(); save(); });
  onClick('canned-new', () => edit(null));
}
