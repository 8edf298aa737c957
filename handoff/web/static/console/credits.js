// Credits without a dispute (issue 17): the chat's owner issues a goodwill credit or an error correction with
// a reason code; above the approval limit it waits for a supervisor, who is never its maker (maker-checker).
// Both see it pending. One filled form is one request_id, so a double click or a retry credits once.

import { api, conversationPath } from './api.js';
import { byId, button, el, notify, onClick, setText } from './dom.js';
import { dollars, humanize } from './format.js';

const STATUS = { issued: 'issued', pending_approval: 'waiting for a supervisor', rejected: 'rejected' };

function newRequestId() {
  if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
  return String(Date.now()) + '-' + String(Math.random()).slice(2);
}

function creditLine(credit) {
  const decided = credit.decided_by ? ' by ' + credit.decided_by.display_name : '';
  const why = credit.decision_note ? ' (' + credit.decision_note + ')' : '';
  return dollars(credit.amount) + ' · ' + humanize(credit.reason_code) + ' · ' + (STATUS[credit.status] ||
    credit.status) + decided + why + ' · asked by ' + credit.requested_by.display_name + ' · ' + credit.note;
}

function creditItem(credit, testId) {
  const item = el('li', 'credit', testId, creditLine(credit));
  item.setAttribute('data-status', credit.status);
  item.setAttribute('data-credit-id', String(credit.id));
  return item;
}

export class Credits {
  constructor({ conversation, user }) {
    this.conversation = conversation;
    this.user = user;
    this.requestId = null;  // kept until the form changes
  }

  async load(conversationId) {
    try {
      const data = await api('GET', conversationPath(conversationId, '/credits'));
      if (conversationId !== this.conversation.currentId()) { return; }
      byId('credit-list').replaceChildren(...data.credits.map((credit) => creditItem(credit, 'credit-item')));
    } catch (error) { byId('credit-list').textContent = ''; }
  }

  async submit() {
    const id = this.conversation.currentId();
    if (!id) { return; }
    if (!this.requestId) { this.requestId = newRequestId(); }
    const body = { amount: byId('credit-amount').value, reason_code: byId('credit-reason').value,
      note: byId('credit-note').value, request_id: this.requestId };
    try {
      const data = await api('POST', conversationPath(id, '/credits'), body);
      const credit = data.credit;
      setText('credit-result', credit.status === 'pending_approval' ?
        'Above the approval limit: ' + dollars(credit.amount) + ' waits for a supervisor.' :
        'Credit of ' + dollars(credit.amount) + ' ' + (STATUS[credit.status] || credit.status) + '.');
      this.load(id);
    } catch (error) {
      setText('credit-result', error.message);
    }
  }

  // Supervisors: the credits waiting for approval, each with approve and reject (not their own).
  async loadApprovals() {
    if (this.user.role !== 'supervisor') { return; }
    try {
      const data = await api('GET', '/api/console/credit-approvals');
      byId('approvals-count').textContent = String(data.credits.length);
      byId('approvals-empty').hidden = data.credits.length > 0;
      byId('approvals-list').replaceChildren(...data.credits.map((credit) => this.approvalItem(credit)));
    } catch (error) { /* the next change reloads the list */ }
  }

  approvalItem(credit) {
    const item = creditItem(credit, 'approval-item');
    const own = credit.requested_by.username === this.user.username;
    const approve = button('Approve', 'approval-approve', () => this.decide(credit, 'approve'));
    const reject = button('Reject', 'approval-reject', () => this.decide(credit, 'reject'));
    if (own) {
      approve.disabled = true;
      reject.disabled = true;
      item.appendChild(el('span', 'muted', 'approval-own', 'Yours: another supervisor approves it.'));
    }
    item.append(approve, reject);
    return item;
  }

  async decide(credit, decision) {
    let body;
    if (decision === 'reject') {
      const note = window.prompt('Why is this credit rejected?');
      if (!note) { return; }
      body = { note };
    }
    try {
      await api('POST', '/api/console/credit-approvals/' + credit.id + '/' + decision, body);
      notify(decision === 'approve' ? 'Credit approved and issued.' : 'Credit rejected.');
    } catch (error) {
      notify(error.message);
    }
    this.loadApprovals();
  }

  // A credit was asked for, approved or rejected somewhere (console socket).
  changed(conversationId) {
    this.loadApprovals();
    if (conversationId === this.conversation.currentId()) { this.load(conversationId); }
  }

  bind() {
    ['credit-amount', 'credit-reason', 'credit-note'].forEach((id) => {
      byId(id).addEventListener('input', () => { this.requestId = null; });
    });
    onClick('credit-button', () => this.submit());
    this.conversation.on('loaded', (detail) => {
      if (detail.conversation_id !== this.loadedFor) {
        this.loadedFor = detail.conversation_id;
        this.requestId = null;
        setText('credit-result', '');
        this.load(detail.conversation_id);
      }
    });
    if (this.user.role === 'supervisor') {
      byId('approvals').hidden = false;
      this.loadApprovals();
    }
    return this;
  }
}
