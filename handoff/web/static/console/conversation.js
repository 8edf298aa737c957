// The open conversation: its transcript (each message once, by seq), the escalation context, and which
// actions the signed-in user may take. Live frames for it arrive through the console socket.

import { clearAccount, loadAccount } from './account.js';
import { api, conversationPath } from './api.js';
import { byId, el, notify, setText } from './dom.js';
import { customerName, dollars, humanize, reasonLabel, slotLabel, slotValue } from './format.js';

const ACTION_CONTROLS = ['agent-send', 'agent-input', 'release-button', 'transfer-button', 'resolve-button',
  'settle-accept-button', 'settle-reject-button', 'credit-button', 'canned-insert'];
const SETTLE_CONTROLS = ['settle-accept-button', 'settle-reject-button', 'settle-credit-amount', 'settle-note'];
const TYPING_SHOWN_MS = 3000;

function disputeText(detail) {
  if (!detail.dispute_id) { return '—'; }
  const settled = detail.dispute_status ? ' · ' + detail.dispute_status : '';
  return '#' + detail.dispute_id + (detail.dispute_amount ? ' · ' + dollars(detail.dispute_amount) : '') + settled;
}

function lineItemText(item) {
  if (!item) { return '—'; }
  return (item.description || item.charge_type || 'charge') + ' · ' + dollars(item.amount) +
    (item.invoice_number ? ' · ' + item.invoice_number : '');
}

function explanationText(explanation) {
  if (!explanation) { return '—'; }
  if (typeof explanation === 'string') { return explanation; }
  return [explanation.summary, explanation.computation, explanation.policy].filter(Boolean).join(' ');
}

function showSlots(slots) {
  const list = byId('context-slots');
  list.textContent = '';
  Object.entries(slots || {}).forEach(([key, value]) => {
    if (value === null || value === undefined || value === '') { return; }
    const label = el('dt', null, null, slotLabel(key));
    label.title = key;  // the internal name stays one hover away
    list.appendChild(label);
    const item = el('dd', null, 'context-slot', slotValue(value));
    item.setAttribute('data-slot', key);
    list.appendChild(item);
  });
}

function showContext(detail) {
  const context = detail.context || {};
  setText('context-reason', detail.reason ? reasonLabel(detail.reason) : '—');
  setText('context-summary', context.summary || '—');
  setText('context-dispute-id', disputeText(detail));
  setText('context-line-item', lineItemText(context.line_item));
  setText('context-explanation', explanationText(context.explanation));
  showSlots(context.slots);
}

function showHeader(detail) {
  const view = byId('conversation-view');
  view.hidden = false;
  byId('conversation-empty').hidden = true;
  view.setAttribute('data-conversation-id', detail.conversation_id);
  view.setAttribute('data-state', detail.state);
  const customer = detail.customer_id ? ' — customer #' + detail.customer_id : '';
  setText('conversation-title', customerName(detail) + customer);
  // chat or email (issue 19), as the queue and my-chats lists say it
  view.setAttribute('data-channel', detail.channel || 'chat');
  setText('conversation-channel', (detail.channel === 'email' ? 'Email' : 'Chat') + ' · ');
  const assignee = detail.assigned_to ? ' · ' + detail.assigned_to.display_name : '';
  setText('conversation-state', humanize(detail.state) + assignee);
}

export class Conversation {
  constructor({ user, socket }) {
    this.user = user;
    this.socket = socket;
    this.current = null;  // the open conversation's detail ({conversation_id} until it has loaded)
    this.lastSeq = 0;
    this.renderedSeqs = new Set();
    this.typingTimer = null;
    this.keepWatching = () => false;  // chats watched for their badges stay watched when another opens
    this.listeners = { loaded: [], note: [] };
    this.seenSeq = 0;  // the last seq told to the server as seen (read receipts, issue 17)
    document.addEventListener('visibilitychange', () => this.markSeen());
  }

  // The customer sees "Read" under the messages this page showed while visible (docs/contracts.md).
  markSeen() {
    const id = this.currentId();
    if (!id || document.visibilityState !== 'visible' || this.lastSeq <= this.seenSeq) { return; }
    this.seenSeq = this.lastSeq;
    this.socket.send({ type: 'seen', conversation_id: id, seq: this.lastSeq });
  }

  // on('loaded', fn(detail)) after a conversation (re)loads; on('note', fn(note)) for a live internal note.
  on(name, listener) {
    this.listeners[name].push(listener);
  }

  emit(name, value) {
    this.listeners[name].forEach((listener) => listener(value));
  }

  currentId() {
    return this.current ? this.current.conversation_id : null;
  }

  isMine(detail) {
    return detail.state === 'assigned' && Boolean(detail.assigned_to) &&
      detail.assigned_to.username === this.user.username;
  }

  showActions(detail) {
    const allowed = this.isMine(detail) || (this.user.role === 'supervisor' && detail.state === 'assigned');
    byId('claim-button').hidden = !(detail.state === 'queued' || detail.state === 'ticket');
    ACTION_CONTROLS.forEach((id) => { byId(id).disabled = !allowed; });
    byId('settle-panel').hidden = !detail.dispute_id;
    // A settled dispute cannot be settled again: its buttons say so instead of failing on click.
    SETTLE_CONTROLS.forEach((id) => { byId(id).disabled = !allowed || Boolean(detail.dispute_status); });
    // The settle call's own result ("Dispute accepted; credit $49.00 issued.") stays: the refresh after it
    // must not replace what was just done with the generic line (opening another chat clears it).
    if (detail.dispute_status && !byId('settle-result').textContent) {
      setText('settle-result', 'Dispute ' + detail.dispute_status + '; nothing more to settle.');
    }
    byId('credit-panel').hidden = !detail.customer_id;
    const credit = byId('settle-credit-amount');
    if (detail.dispute_amount && !credit.value) { credit.value = detail.dispute_amount; }
  }

  showDetail(detail) {
    this.current = detail;
    showHeader(detail);
    showContext(detail);
    this.showActions(detail);
  }

  senderLabel(message) {
    const labels = { customer: (this.current && this.current.customer_name) || 'Customer', bot: 'Bot',
      agent: message.agent_name || 'Agent', system: '' };
    return labels[message.sender];
  }

  renderMessage(message) {
    if (this.renderedSeqs.has(message.seq)) { return; }
    this.renderedSeqs.add(message.seq);
    this.lastSeq = Math.max(this.lastSeq, message.seq);
    const item = el('li', null, 'transcript-message');
    item.setAttribute('data-sender', message.sender);
    item.setAttribute('data-seq', String(message.seq));
    const who = this.senderLabel(message);
    if (who) { item.appendChild(el('span', 'who', null, who + ':')); }
    item.appendChild(el('span', null, 'transcript-text', message.text));
    if (message.buttons && message.buttons.length) {
      const titles = message.buttons.map((b) => b.title).join(' | ');
      item.appendChild(el('span', 'muted', null, ' [' + titles + ']'));
    }
    const list = byId('conversation-transcript');
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
    if (message.sender === 'customer') { byId('customer-typing').hidden = true; this.markSeen(); }
  }

  watch(conversationId) {
    this.socket.send({ type: 'watch', conversation_id: conversationId });
  }

  async open(conversationId) {
    const previous = this.currentId();
    if (previous && previous !== conversationId && !this.keepWatching(previous)) {
      this.socket.send({ type: 'unwatch', conversation_id: previous });
    }
    byId('conversation-transcript').textContent = '';
    this.renderedSeqs = new Set();
    this.lastSeq = 0;
    this.seenSeq = 0;
    this.current = { conversation_id: conversationId };
    this.watch(conversationId);
    try {
      const detail = await api('GET', conversationPath(conversationId));
      if (previous !== conversationId) { setText('settle-result', ''); byId('settle-credit-amount').value = ''; }
      this.showDetail(detail);
      detail.messages.forEach((message) => this.renderMessage(message));
      this.emit('loaded', detail);
      if (this.isMine(detail)) { loadAccount(conversationId); } else { clearAccount(); }
    } catch (error) {
      notify(error.message);
    }
  }

  // Fetches what changed since the last message shown; loads the account once the chat becomes ours.
  async refresh() {
    const id = this.currentId();
    if (!id) { return; }
    let detail;
    try {
      detail = await api('GET', conversationPath(id, '?after_seq=' + this.lastSeq));
    } catch (error) { return; }
    const wasMine = this.isMine(this.current);
    this.showDetail(detail);
    detail.messages.forEach((message) => this.renderMessage(message));
    this.emit('loaded', detail);
    if (this.isMine(detail) && !wasMine) { loadAccount(id); }
  }

  // After a (re)connect: watch the open conversation again and fetch what was missed.
  resume() {
    const id = this.currentId();
    if (id) { this.watch(id); this.refresh(); }
  }

  showTyping() {
    byId('customer-typing').hidden = false;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => { byId('customer-typing').hidden = true; }, TYPING_SHOWN_MS);
  }

  // A frame about some conversation: acted on only when it is the open one.
  receive(frame) {
    if (frame.conversation_id !== this.currentId()) { return; }
    if (frame.type === 'message') { this.renderMessage(frame.message); }
    if (frame.type === 'typing') { this.showTyping(); }
    if (frame.type === 'note') { this.emit('note', frame.note); }
    if (frame.type === 'status' || frame.type === 'conversation_changed') { this.refresh(); }
  }
}
