// The account panel's payment parts (issue 16): the methods on file (masked, expired flagged), autopay and
// its last run, the alerts the bot also names, and the payment arrangements with their instalments.
// Payment attempts themselves are listed by account.js (paymentLine).

import { byId, el, setText } from './dom.js';
import { longDate, money } from './format.js';

function methodItem(method) {
  const item = el('li', method.expired ? 'method expired' : 'method', 'account-method',
    method.masked + (method.is_default ? ' · default' : ''));
  item.setAttribute('data-expired', String(Boolean(method.expired)));
  if (method.expired) { item.appendChild(el('strong', 'flag', 'account-method-expired', ' EXPIRED')); }
  return item;
}

function autopayLine(methods) {
  const last = methods.last_autopay;
  const lastText = last
    ? ' · last autopay ' + longDate(last.received_date) + ' ' + money(last.amount) + ' ' + last.status +
      (last.failure_reason ? ' (' + last.failure_reason + ')' : '')
    : '';
  const autopay = methods.autopay
    ? 'Autopay on, next ' + longDate(methods.next_autopay_date)
    : 'Autopay off';
  return autopay + lastText + (methods.paperless ? ' · paperless' : '');
}

function alertItem(alert) {
  const item = el('li', 'alert', 'account-alert', alert.message);
  item.setAttribute('data-code', alert.code);
  return item;
}

function instalmentText(instalment) {
  return '#' + instalment.number + ' ' + money(instalment.amount) + ' due ' + longDate(instalment.due_date) +
    (instalment.status ? ' ' + instalment.status : '');
}

function arrangementItem(arrangement) {
  const kind = arrangement.kind.replace(/_/g, ' ');
  const when = arrangement.pay_by ? ' by ' + longDate(arrangement.pay_by) : '';
  const item = el('li', 'arrangement', 'account-arrangement',
    kind + ' · ' + money(arrangement.amount) + when + ' · ' + arrangement.status +
    (arrangement.approved_outside_policy ? ' · outside policy' : '') +
    (arrangement.note ? ' · ' + arrangement.note : '') + ' · by ' + arrangement.created_by);
  item.setAttribute('data-kind', arrangement.kind);
  item.setAttribute('data-status', arrangement.status);
  if ((arrangement.instalments || []).length) {
    const list = el('ol');
    arrangement.instalments.forEach((instalment) => {
      const row = el('li', null, 'account-instalment', instalmentText(instalment));
      row.setAttribute('data-status', instalment.status || '');
      list.appendChild(row);
    });
    item.appendChild(list);
  }
  return item;
}

export function showPaymentMethods(part) {
  if (!part || !part.ok) {
    byId('account-methods').replaceChildren();
    byId('account-alerts').replaceChildren();
    setText('account-autopay', part ? part.error.message : '');
    return;
  }
  setText('account-autopay', autopayLine(part.data));
  byId('account-methods').replaceChildren(...(part.data.on_file || []).map(methodItem));
  byId('account-alerts').replaceChildren(...(part.data.alerts || []).map(alertItem));
}

export function showArrangements(part) {
  const list = byId('account-arrangements');
  if (!part || !part.ok) {
    list.replaceChildren(...(part ? [el('li', 'error', null, part.error.message)] : []));
    return;
  }
  list.replaceChildren(...(part.data.length ? part.data.map(arrangementItem)
    : [el('li', null, 'account-arrangements-none', 'None')]));
}

export function clearPaymentParts() {
  setText('account-autopay', '');
  ['account-methods', 'account-alerts', 'account-arrangements'].forEach((id) => byId(id).replaceChildren());
}
