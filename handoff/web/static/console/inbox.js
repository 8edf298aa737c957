// What a specialist expects from an inbox (issue 17): every chat assigned to them is watched, so a new
// customer message in any of them shows a badge and a preview on "My chats", plays a sound and (with the
// browser's permission) raises a desktop notification; an online/away toggle; empty-state placeholders.

import { api } from './api.js';
import { byId, el, notify, onClick } from './dom.js';
import { customerName } from './format.js';

const PREVIEW_CHARS = 80;
const BASE_TITLE = document.title;

export function beep() {
  try {  // browsers may block audio until the page was clicked once
    const audio = new (window.AudioContext || window.webkitAudioContext)();
    const tone = audio.createOscillator();
    tone.frequency.value = 880;
    tone.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.15);
  } catch (error) { /* no audio: the badge and the title still show it */ }
}

function preview(text) {
  const flat = String(text || '').replace(/\s+/g, ' ').trim();
  return flat.length > PREVIEW_CHARS ? flat.slice(0, PREVIEW_CHARS - 1) + '…' : flat;
}

export class Inbox {
  constructor({ conversation, socket }) {
    this.conversation = conversation;
    this.socket = socket;
    this.chats = new Map();  // conversation_id -> summary, for the chats assigned to me
    this.unread = new Map();  // conversation_id -> {count, text}
    this.watched = new Set();
    conversation.keepWatching = (id) => this.chats.has(id);
  }

  // After "My chats" was (re)loaded: watch each one, forget the ones that are no longer mine.
  setChats(chats) {
    this.chats = new Map(chats.map((chat) => [chat.conversation_id, chat]));
    for (const id of [...this.watched]) {
      if (!this.chats.has(id)) {
        this.watched.delete(id);
        this.unread.delete(id);
        if (id !== this.conversation.currentId()) { this.socket.send({ type: 'unwatch', conversation_id: id }); }
      }
    }
    this.chats.forEach((_chat, id) => {
      if (!this.watched.has(id)) { this.watched.add(id); this.socket.send({ type: 'watch', conversation_id: id }); }
    });
    byId('my-chats-empty').hidden = chats.length > 0;
    this.decorate();
  }

  // After a reconnect the server forgot what this page watched.
  rewatch() {
    this.watched.forEach((id) => this.socket.send({ type: 'watch', conversation_id: id }));
  }

  decorate() {
    let total = 0;
    document.querySelectorAll('[data-testid=my-chat-item]').forEach((item) => {
      const id = item.getAttribute('data-conversation-id');
      const unread = this.unread.get(id);
      item.querySelectorAll('.unread, .preview').forEach((node) => node.remove());
      item.setAttribute('data-unread', unread ? String(unread.count) : '0');
      if (id === this.conversation.currentId()) { item.setAttribute('aria-current', 'true'); } else {
        item.removeAttribute('aria-current');
      }
      if (!unread) { return; }
      total += unread.count;
      const badge = el('span', 'badge unread', 'my-chat-unread', String(unread.count));
      badge.setAttribute('aria-label', unread.count + ' new');
      item.prepend(badge);
      item.appendChild(el('span', 'preview', 'my-chat-preview', unread.text));
    });
    const summary = byId('my-chats-unread');
    summary.hidden = total === 0;
    summary.textContent = String(total);
    document.title = total ? '(' + total + ') ' + BASE_TITLE : BASE_TITLE;
  }

  // A message frame from the console socket, about any watched conversation.
  message(frame) {
    const message = frame.message;
    const id = frame.conversation_id;
    if (!message || message.sender !== 'customer' || !this.chats.has(id)) { return; }
    const looking = id === this.conversation.currentId() && document.visibilityState === 'visible';
    if (looking) { return; }
    if (id !== this.conversation.currentId()) {
      const unread = this.unread.get(id) || { count: 0, text: '' };
      this.unread.set(id, { count: unread.count + 1, text: preview(message.text) });
      this.decorate();
    }
    this.alert(id, message);
  }

  alert(id, message) {
    beep();
    if (!('Notification' in window) || Notification.permission !== 'granted') { return; }
    try {
      const shown = new Notification('New message from ' + customerName(this.chats.get(id) || {}), {
        body: preview(message.text), tag: 'chat-' + id,
      });
      shown.onclick = () => { window.focus(); this.open(id); };
    } catch (error) { /* some browsers only notify from a service worker: the badge still shows */ }
  }

  open(id) {
    this.unread.delete(id);
    this.conversation.open(id);
    this.decorate();
  }

  seen(id) {
    if (this.unread.delete(id)) { this.decorate(); }
  }

  bindPermission() {
    const ask = byId('notify-permission');
    ask.hidden = !('Notification' in window) || Notification.permission !== 'default';
    onClick('notify-permission', async () => {
      const answer = await Notification.requestPermission();
      ask.hidden = answer !== 'default';
      notify(answer === 'granted' ? 'Desktop alerts are on.' : 'Desktop alerts stay off (the browser said no).');
    });
  }

  showPresence(status) {
    const toggle = byId('presence-toggle');
    toggle.hidden = false;
    toggle.setAttribute('data-status', status);
    toggle.setAttribute('aria-pressed', String(status === 'away'));
    toggle.textContent = status === 'away' ? 'Away' : 'Online';
    toggle.title = status === 'away' ? 'Away: new chats are not counted on you. Click to go online.' :
      'Online: click to go away';
  }

  async bindPresence() {
    onClick('presence-toggle', async () => {
      const next = byId('presence-toggle').getAttribute('data-status') === 'away' ? 'online' : 'away';
      try {
        this.showPresence((await api('POST', '/api/console/presence', { status: next })).status);
      } catch (error) { notify(error.message); }
    });
    try {
      this.showPresence((await api('GET', '/api/console/presence')).status);
    } catch (error) { /* the toggle stays hidden */ }
  }

  bind() {
    this.conversation.on('loaded', (detail) => { this.seen(detail.conversation_id); this.decorate(); });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') { this.decorate(); }
    });
    this.bindPermission();
    this.bindPresence();
    return this;
  }
}
