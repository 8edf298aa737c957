// The account snapshot beside a claimed conversation: customer, balance, the account check's findings
// (issue 18), invoices, payments, disputes.
// Each part comes back on its own ({ok, data} or {ok: false, error}): one failing part does not hide the
// rest.

import { clearPaymentParts, showArrangements, showPaymentMethods } from './account-payments.js';
import { api, conversationPath } from './api.js';
import { byId, el, setText } from './dom.js';
import { longDate, money } from './format.js';

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

// The account's currency (the balance's, else the account's): every amount of the panel is written in it.
let currency = 'USD';

function accountCurrency(data) {
  const account = data.customer.ok ? data.customer.data.account : null;
  return (data.balance.ok && data.balance.data.currency) || (account && account.currency) || 'USD';
}

function balanceLine(part) {
  if (!part.ok) { return part.error.message; }
  const balance = part.data;
  return 'Total due ' + money(balance.total_due, currency) + ' (past due ' + money(balance.past_due, currency) + ')' +
    ' · next ' + money(balance.next_due_amount, currency) + ' on ' + longDate(balance.next_due_date);
}

function invoiceBox(invoice) {
  const box = el('div', 'invoice', 'account-invoice');
  box.appendChild(el('strong', null, null,
    invoice.number + ' · ' + money(invoice.total, invoice.currency || currency) + ' · ' + invoice.status));
  const lines = el('ul');
  (invoice.line_items || []).forEach((line) => {
    lines.appendChild(el('li', null, 'account-line-item',
      line.description + ' — ' + money(line.amount, invoice.currency || currency) + ' (' + line.charge_type + ')'));
  });
  box.appendChild(lines);
  return box;
}

// One payment attempt: what, how, its status and why it failed, and who made it (source, actor).
function paymentItem(payment) {
  const item = el('li', payment.status === 'failed' ? 'payment failed' : 'payment', 'account-payment',
    longDate(payment.received_date) + ' · ' + money(payment.amount, payment.currency || currency) + ' · ' + payment.method + ' · ' + payment.status +
    (payment.failure_reason ? ' (' + payment.failure_reason + ')' : '') +
    (payment.expected_post_date ? ' · posts ' + longDate(payment.expected_post_date) : '') +
    ' · ' + (payment.source || 'external') + (payment.actor ? ' ' + payment.actor : ''));
  item.setAttribute('data-status', payment.status);
  item.setAttribute('data-source', payment.source || 'external');
  return item;
}

function disputeLine(dispute) {
  return '#' + dispute.id + ' · ' + money(dispute.amount, currency) + ' · ' + dispute.status + ' · ' + (dispute.reason || '');
}

const FINDING_KINDS = {
  duplicate_charge: 'Duplicate charge',
  late_fee_paid_on_time: 'Late fee although paid on time',
  promotion_missing: 'Promotion or discount missing',
  tax_wrong_base: 'Tax on the wrong base',
  usage_mismatch: 'Usage charge does not match usage',
  bill_shock: 'Bill shock',
};

// The findings list sits right under the alerts; built here so the page's markup stays as it is.
function findingsList() {
  let list = byId('account-findings');
  if (!list) {
    const alerts = byId('account-alerts');
    list = el('ul', 'findings', 'account-findings');
    list.id = 'account-findings';
    alerts.after(el('h4', null, null, 'Account check'), list);
  }
  return list;
}

// One finding: what, how much, how sure, whether the bot may settle it (else why not) and the evidence.
function findingItem(finding, findingCurrency) {
  const item = el('li', 'finding', 'account-finding');
  item.setAttribute('data-kind', finding.kind);
  item.setAttribute('data-bot-may-fix', String(finding.bot_may_fix));
  item.appendChild(el('strong', null, 'account-finding-kind', FINDING_KINDS[finding.kind] || finding.kind));
  item.appendChild(el('div', null, 'account-finding-summary', finding.summary));
  const sure = Math.round(Number(finding.confidence) * 100);
  const who = finding.bot_may_fix ? 'the bot may fix it' : 'needs a specialist: ' +
    (finding.handover_reasons || []).map((reason) => reason.message).join('; ');
  item.appendChild(el('div', null, 'account-finding-facts',
    finding.invoice_number + ' · ' + money(finding.amount, findingCurrency) + ' · confidence ' + sure + '% · ' + who));
  const evidence = finding.evidence || {};
  const lines = el('ul', 'evidence');
  (evidence.line_items || []).forEach((line) => {
    lines.appendChild(el('li', null, 'account-finding-line',
      line.invoice_number + ' · ' + line.description + ' — ' + money(line.amount, findingCurrency) + ' (line ' + line.id + ')'));
  });
  if (evidence.policy_rule) {
    lines.appendChild(el('li', null, 'account-finding-rule',
      evidence.policy_rule.code + ' ' + evidence.policy_rule.title));
  }
  if (evidence.explanation) { lines.appendChild(el('li', null, null, evidence.explanation)); }
  item.appendChild(lines);
  return item;
}

function showFindings(part) {
  const list = findingsList();
  if (!part || !part.ok) {
    list.replaceChildren(el('li', 'error', 'account-findings-error',
      part ? part.error.message : 'The account check is not available.'));
    return;
  }
  const findings = part.data.findings || [];
  list.replaceChildren(...findings.map((finding) => findingItem(finding, part.data.currency || currency)));
  if (!findings.length) { list.appendChild(el('li', null, 'account-findings-none', 'No billing errors found.')); }
}

function fillList(id, part, render) {
  byId(id).replaceChildren(...(part.ok ? part.data : []).map(render));
}

function showAccount(data) {
  currency = accountCurrency(data);
  byId('account-error').hidden = true;
  setText('account-customer', customerLine(data.customer));
  setText('account-balance', balanceLine(data.balance));
  fillList('account-invoices', data.invoices, invoiceBox);
  if (!data.invoices.ok) { setText('account-invoices', data.invoices.error.message); }
  fillList('account-payments', data.payments, paymentItem);
  fillList('account-disputes', data.disputes, (d) => el('li', null, 'account-dispute', disputeLine(d)));
  showPaymentMethods(data.payment_methods);
  showArrangements(data.arrangements);
  showFindings(data.findings);
}

export function clearAccount() {
  PARTS.forEach((id) => setText(id, ''));
  findingsList().replaceChildren();
  clearPaymentParts();
  showAccountError('Claim the chat to see the account.');
}

export async function loadAccount(conversationId) {
  try {
    showAccount(await api('GET', conversationPath(conversationId, '/account')));
  } catch (error) {
    showAccountError(error.message);
  }
  import('./account-documents.js').then((documents) => documents.loadDocuments(conversationId));
  import('./account-reminders.js').then((reminders) => reminders.loadReminders(conversationId));
}
