// The account snapshot beside a claimed conversation: customer, balance, invoices, payments, disputes.
// Each part comes back on its own ({ok, data} or {ok: false, error}): one failing part does not hide the
// rest.

import { clearPaymentParts, showArrangements, showPaymentMethods } from './account-payments.js';
import { api, conversationPath } from './api.js';
import { byId, el, setText } from './dom.js';

const PARTS = ['account-customer', 'account-balance', 'account-invoices', 'account-payments',
  'account-disputes'];

function showAccountError(message) {
  byId('account-error').hidden = false;
  setText('account-error', message);
}

function customerLine(part) {
  if (!part.ok) { return part.error.message; }
  const customer = part.data;
  const account = customer.account;
  return customer.first_name + ' ' + customer.last_name + ' · ' + account.account_number + ' · ' +
    account.status + (account.autopay ? ' · autopay' : '');
}

function balanceLine(part) {
  if (!part.ok) { return part.error.message; }
  const balance = part.data;
  return 'Total due ' + balance.total_due + ' ' + balance.currency + ' (past due ' + balance.past_due + ')' +
    ' · next ' + (balance.next_due_amount || '—') + ' on ' + (balance.next_due_date || '—');
}

function invoiceBox(invoice) {
  const box = el('div', 'invoice', 'account-invoice');
  box.appendChild(el('strong', null, null,
    invoice.number + ' · ' + invoice.total + ' ' + (invoice.currency || '') + ' · ' + invoice.status));
  const lines = el('ul');
  (invoice.line_items || []).forEach((line) => {
    lines.appendChild(el('li', null, 'account-line-item',
      line.description + ' — ' + line.amount + ' (' + line.charge_type + ')'));
  });
  box.appendChild(lines);
  return box;
}

// One payment attempt: what, how, its status and why it failed, and who made it (source, actor).
function paymentItem(payment) {
  const item = el('li', payment.status === 'failed' ? 'payment failed' : 'payment', 'account-payment',
    payment.received_date + ' · ' + payment.amount + ' · ' + payment.method + ' · ' + payment.status +
    (payment.failure_reason ? ' (' + payment.failure_reason + ')' : '') +
    (payment.expected_post_date ? ' · posts ' + payment.expected_post_date : '') +
    ' · ' + (payment.source || 'external') + (payment.actor ? ' ' + payment.actor : ''));
  item.setAttribute('data-status', payment.status);
  item.setAttribute('data-source', payment.source || 'external');
  return item;
}

function disputeLine(dispute) {
  return '#' + dispute.id + ' · ' + dispute.amount + ' · ' + dispute.status + ' · ' + (dispute.reason || '');
}

function fillList(id, part, render) {
  byId(id).replaceChildren(...(part.ok ? part.data : []).map(render));
}

function showAccount(data) {
  byId('account-error').hidden = true;
  setText('account-customer', customerLine(data.customer));
  setText('account-balance', balanceLine(data.balance));
  fillList('account-invoices', data.invoices, invoiceBox);
  if (!data.invoices.ok) { setText('account-invoices', data.invoices.error.message); }
  fillList('account-payments', data.payments, paymentItem);
  fillList('account-disputes', data.disputes, (d) => el('li', null, 'account-dispute', disputeLine(d)));
  showPaymentMethods(data.payment_methods);
  showArrangements(data.arrangements);
}

export function clearAccount() {
  PARTS.forEach((id) => setText(id, ''));
  clearPaymentParts();
  showAccountError('Claim the chat to see the account.');
}

export async function loadAccount(conversationId) {
  try {
    showAccount(await api('GET', conversationPath(conversationId, '/account')));
  } catch (error) {
    showAccountError(error.message);
  }
}
