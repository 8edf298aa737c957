// Internal notes on the open conversation (issue 17): for colleagues and supervisors only. They are stored
// apart from the chat's messages, so the customer (widget) and the bot (Rasa) never get them.

import { api, conversationPath } from './api.js';
import { byId, el, notify } from './dom.js';
import { localTime } from './format.js';

export class Notes {
  constructor({ conversation }) {
    this.conversation = conversation;
    this.shown = new Set();
  }

  render(notes) {
    byId('notes-list').textContent = '';
    this.shown = new Set();
    notes.forEach((note) => this.add(note));
    byId('notes-empty').hidden = notes.length > 0;
  }

  add(note) {
    if (this.shown.has(note.id) || note.conversation_id !== this.conversation.currentId()) { return; }
    this.shown.add(note.id);
    const item = el('li', 'note', 'note-item');
    item.setAttribute('data-note-id', String(note.id));
    item.appendChild(el('span', 'who', 'note-author', note.author.display_name));
    item.appendChild(el('time', 'muted', null, localTime(note.created_at)));
    item.appendChild(el('p', null, 'note-text', note.text));
    byId('notes-list').appendChild(item);
    byId('notes-empty').hidden = true;
  }

  async submit() {
    const input = byId('note-input');
    const text = input.value.trim();
    const id = this.conversation.currentId();
    if (!text || !id) { return; }
    byId('note-add').disabled = true;
    try {
      this.add(await api('POST', conversationPath(id, '/notes'), { text }));
      input.value = '';
    } catch (error) {
      notify(error.message);
    } finally {
      byId('note-add').disabled = false;
    }
  }

  bind() {
    this.conversation.on('loaded', (detail) => this.render(detail.notes || []));
    this.conversation.on('note', (note) => this.add(note));
    byId('note-form').addEventListener('submit', (event) => { event.preventDefault(); this.submit(); });
    return this;
  }
}
