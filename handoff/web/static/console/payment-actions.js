// Payments in the open chat (issue 16): take a payment with the method on file (a quote, read to the customer
// in a confirmation dialog, then charged), set up an arrangement, within policy or approved outside it, and
// apply the one-time late-fee waiver (the backend's policy decides; one request_id per chat: waived once).
// Each action carries a request_id made once per dialog / per filled form: a double click or a retry sends
// the same id, the handoff service turns it into the backend's Idempotency-Key, and nothing happens twice.

import { loadAccount } from './account.js';
import { api, conversationPath } from './api.js';
import { byId, notify, onClick, setText } from './dom.js';
import { money } from './format.js';

function newRequestId() {
  if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
  return String(Date.now()) + '-' + String(Math.random()).slice(2);
}

function paymentText(payment) {
  if (payment.status === 'failed') {
    return 'Declined: ' + (payment.failure_message || payment.failure_reason || 'the payment did not go through');
  }
  return money(payment.amount, payment.currency) + ' ' + payment.status + ' with ' + payment.method +
    (payment.expected_post_date ? ' (posts ' + payment.expected_post_date + ')' : '') +
    ' · now owes ' + money(payment.total_due, payment.currency);
}

function arrangementText(arrangement) {
  return arrangement.kind.replace(/_/g, ' ') + ' ' + arrangement.status + ' · ' + money(arrangement.amount) +
    (arrangement.approved_outside_policy ? ' · approved outside policy' : '');
}

export class PaymentActions {
  constructor({ conversation }) {
    this.conversation = conversation;
    this.pending = null;  // {conversationId, quoteId, requestId} while the confirmation dialog is open
    this.arrangementRequestId = null;  // kept until the form changes: a double click arranges once
    this.waiverRequestIds = new Map();  // conversation id -> request_id: a fee is waived once per chat
  }

  async quote() {
    const id = this.conversation.currentId();
    if (!id) { return; }
    const choice = byId('payment-choice').value;
    const body = { amount_choice: choice, request_id: newRequestId() };
    if (choice === 'amount') { body.amount = byId('payment-amount').value.trim(); }
    try {
      const data = await api('POST', conversationPath(id, '/payment-quotes'), body);
      this.pending = { conversationId: id, quoteId: data.quote.quote_id, requestId: newRequestId() };
      setText('payment-summary', data.quote.summary);
      byId('payment-confirm-button').disabled = false;
      byId('payment-dialog').showModal();
    } catch (error) {
      setText('payment-result', error.message);
    }
  }

  async confirm() {
    const pending = this.pending;
    if (!pending) { return; }
    byId('payment-confirm-button').disabled = true;
    const path = conversationPath(pending.conversationId,
      '/payment-quotes/' + encodeURIComponent(pending.quoteId) + '/confirm');
    try {
      const data = await api('POST', path, { request_id: pending.requestId });
      setText('payment-result', paymentText(data.payment));
      this.close();
      loadAccount(pending.conversationId);
    } catch (error) {
      byId('payment-confirm-button').disabled = false;  // same request_id on a retry: still one payment
      setText('payment-result', error.message);
    }
  }

  close() {
    this.pending = null;
    if (byId('payment-dialog').open) { byId('payment-dialog').close(); }
  }

  arrangementBody() {
    const kind = byId('arrangement-kind').value;
    const body = { kind, override_policy: byId('arrangement-override').checked,
      note: byId('arrangement-note').value, request_id: this.arrangementRequestId };
    if (kind === 'promise_to_pay') {
      body.amount = byId('arrangement-amount').value.trim();
      body.pay_by = byId('arrangement-pay-by').value || null;
    } else {
      body.instalments = Number(byId('arrangement-instalments').value);
    }
    return body;
  }

  async arrange() {
    const id = this.conversation.currentId();
    if (!id) { return; }
    this.arrangementRequestId = this.arrangementRequestId || newRequestId();
    try {
      const data = await api('POST', conversationPath(id, '/arrangements'), this.arrangementBody());
      setText('arrangement-result', arrangementText(data.arrangement));
      loadAccount(id);
    } catch (error) {
      setText('arrangement-result', error.message);
      notify(error.message);
    }
  }

  async waive() {
    const id = this.conversation.currentId();
    if (!id) { return; }
    if (!this.waiverRequestIds.has(id)) { this.waiverRequestIds.set(id, newRequestId()); }
    try {
      const data = await api('POST', conversationPath(id, '/late-fee-waivers'),
        { request_id: this.waiverRequestIds.get(id) });
      setText('waiver-result', 'Waived ' + money(data.waiver.credit.amount) + ' as a credit · now owes ' +
        money(data.waiver.total_due));
      loadAccount(id);
    } catch (error) {
      setText('waiver-result', error.message);
      notify(error.message);
    }
  }

  bind() {
    onClick('payment-quote-button', () => this.quote());
    onClick('payment-confirm-button', () => this.confirm());
    onClick('payment-cancel-button', () => this.close());
    onClick('arrangement-button', () => this.arrange());
    onClick('waiver-button', () => this.waive());
    byId('arrangement-panel').addEventListener('input', () => { this.arrangementRequestId = null; });
    return this;
  }
}
