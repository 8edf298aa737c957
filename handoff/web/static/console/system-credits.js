// The supervisor's oversight of the account check (issue 18): every credit the system issued in the report's
// dates, with a Reverse button (the reason is asked first), and the limits of what the bot may credit alone.

import { api } from './api.js';
import { button, byId, el, notify } from './dom.js';
import { money } from './format.js';

const when = (iso) => new Date(iso).toLocaleString();

async function reverse(credit, range) {
  const reason = window.prompt('Why reverse the ' + money(credit.amount, credit.currency)
    + ' credit to customer ' + credit.customer_id + '? (the audit log keeps it)');
  if (reason === null) { return; }
  if (!reason.trim()) { notify('A reason is needed to reverse a credit.'); return; }
  try {
    await api('POST', '/api/console/system-credits/' + credit.credit_id + '/reverse', { reason: reason.trim() });
    notify('Credit ' + credit.credit_id + ' reversed: the customer\'s balance is back up by '
      + money(credit.amount, credit.currency) + '.');
  } catch (error) {
    notify(error.message);
  }
  loadSystemCredits(range);
}

function creditRow(credit, range) {
  const tr = el('tr', null, 'system-credit');
  tr.setAttribute('data-credit-id', String(credit.credit_id));
  tr.appendChild(el('td', null, null, when(credit.created_at)));
  tr.appendChild(el('td', null, 'system-credit-customer', String(credit.customer_id)));
  tr.appendChild(el('td', null, null, credit.invoice_number || ''));
  tr.appendChild(el('td', 'num', 'system-credit-amount', money(credit.amount, credit.currency)));
  tr.appendChild(el('td', 'muted', null, credit.reason));
  const state = el('td', null, 'system-credit-state');
  if (credit.reversal) {
    state.textContent = 'Reversed by ' + credit.reversal.reversed_by + ' on ' + when(credit.reversal.created_at)
      + ': ' + credit.reversal.reason;
  } else {
    const reverseButton = button('Reverse', 'system-credit-reverse', () => reverse(credit, range));
    reverseButton.className = 'secondary';
    reverseButton.setAttribute('aria-label', 'Reverse credit ' + credit.credit_id);
    state.appendChild(reverseButton);
  }
  tr.appendChild(state);
  return tr;
}

export async function loadSystemCredits(range) {
  const body = byId('system-credits-list');
  const status = byId('system-credits-status');
  try {
    const query = '?start=' + encodeURIComponent(range.start) + '&end=' + encodeURIComponent(range.end);
    const data = await api('GET', '/api/console/system-credits' + query);
    body.replaceChildren(...data.credits.map((credit) => creditRow(credit, range)));
    status.textContent = data.credits.length ? '' : 'The account check issued no credit in these dates.';
  } catch (error) {
    body.replaceChildren();
    status.textContent = 'System credits are not available: ' + error.message;
  }
}

function showLimits(limits) {
  byId('limit-max-credit').value = limits.max_credit;
  byId('limit-max-credit-12-months').value = limits.max_credit_12_months;
  byId('limit-min-confidence').value = String(limits.min_confidence);
  byId('limits-source').textContent = limits.source === 'override'
    ? 'Set by ' + limits.updated_by + ' on ' + when(limits.updated_at) + ' (defaults: '
      + limits.defaults.max_credit + ' per credit, ' + limits.defaults.max_credit_12_months + ' per 12 months, '
      + 'confidence ' + limits.defaults.min_confidence + ')'
    : 'The settings\' defaults';
}

export async function loadLimits() {
  try {
    showLimits(await api('GET', '/api/console/bot-limits'));
  } catch (error) {
    byId('limits-source').textContent = 'The limits are not available: ' + error.message;
  }
}

async function saveLimits(event) {
  event.preventDefault();
  const reason = byId('limit-reason').value.trim();
  if (!reason) { notify('Say why the limits change (the audit log keeps it).'); return; }
  try {
    showLimits(await api('POST', '/api/console/bot-limits', {
      max_credit: byId('limit-max-credit').value.trim(),
      max_credit_12_months: byId('limit-max-credit-12-months').value.trim(),
      min_confidence: Number(byId('limit-min-confidence').value),
      reason,
    }));
    byId('limit-reason').value = '';
    notify('The bot\'s limits are changed for every later fix.');
  } catch (error) {
    notify(error.message);
  }
}

export function bindSystemCredits() {
  byId('limits-form').addEventListener('submit', saveLimits);
}
