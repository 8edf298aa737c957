// What a specialist does in the open conversation: reply, claim, release, transfer, settle a dispute,
// resolve.

import { loadAccount } from './account.js';
import { api, conversationPath } from './api.js';
import { byId, notify, onClick, setText } from './dom.js';
import { money } from './format.js';

const TYPING_EVERY_MS = 2000;

function newClientId() {
  if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
  return String(Date.now()) + Math.random();
}

function settledText(data) {
  const credit = data.dispute && data.dispute.credit;
  return 'Dispute accepted' + (credit ? '; credit ' + money(credit.amount) + ' issued.' : '.');
}

// onChanged() runs after every change the user makes (the "my chats" list follows it).
export class ConversationActions {
  constructor({ conversation, onChanged }) {
    this.conversation = conversation;
    this.onChanged = onChanged;
    this.lastTyping = 0;
  }

  async act(suffix, body, done) {
    const id = this.conversation.currentId();
    if (!id) { return; }
    try {
      const data = await api('POST', conversationPath(id, suffix), body);
      if (done) { done(data, id); }
      this.conversation.refresh();
      this.onChanged();
    } catch (error) {
      notify(error.message);
    }
  }

  async claim(conversationId) {
    try {
      await api('POST', conversationPath(conversationId, '/claim'));
      this.conversation.open(conversationId);
      this.onChanged();
    } catch (error) {
      notify(error.message);
    }
  }

  async sendReply() {
    const input = byId('agent-input');
    const text = input.value.trim();
    const id = this.conversation.currentId();
    if (!text || !id) { return; }
    input.value = '';
    try {
      const body = { text, client_id: newClientId() };
      this.conversation.renderMessage(await api('POST', conversationPath(id, '/messages'), body));
    } catch (error) {
      input.value = text;
      notify(error.message);
    }
  }

  sendTyping() {
    const id = this.conversation.currentId();
    if (!id || Date.now() - this.lastTyping < TYPING_EVERY_MS) { return; }
    this.lastTyping = Date.now();
    api('POST', conversationPath(id, '/typing')).catch(() => {});
  }

  settle(decision, extra, outcome, resultText) {
    const body = { decision, note: byId('settle-note').value, ...extra };
    this.act('/settle', body, (data, id) => {
      setText('settle-result', resultText(data));
      byId('resolve-outcome').value = outcome;
      loadAccount(id);
    });
  }

  bind() {
    byId('agent-form').addEventListener('submit', (event) => { event.preventDefault(); this.sendReply(); });
    byId('agent-input').addEventListener('input', () => this.sendTyping());
    onClick('claim-button', () => { const id = this.conversation.currentId(); if (id) { this.claim(id); } });
    onClick('release-button', () => {
      this.act('/release', undefined, () => notify('Released back to the queue.'));
    });
    onClick('transfer-button', () => {
      const target = byId('transfer-select').value;  // a username, or team:<team> (back to that queue)
      const body = target.startsWith('team:') ? { to_team: target.slice(5) } : { to_username: target };
      this.act('/transfer', body, () => notify('Transferred.'));
    });
    onClick('settle-accept-button', () => {
      const credit = { credit_amount: byId('settle-credit-amount').value };
      this.settle('accepted', credit, 'credit_issued', settledText);
    });
    onClick('settle-reject-button', () => {
      this.settle('rejected', {}, 'dispute_rejected', () => 'Dispute rejected.');
    });
    onClick('resolve-button', () => {
      const body = { outcome: byId('resolve-outcome').value };
      this.act('/resolve', body, () => notify('Resolved; the bot has taken over.'));
    });
    return this;
  }
}
