// The audit log as people read it: local time, names instead of ids, repeated identical entries folded
// ("× 3"), and the details as "key: value" text.

import { byId, el, setText } from './dom.js';

const ACTIONS = {
  login: 'Signed in', logout: 'Signed out', login_failed: 'Failed sign-in', login_locked: 'Sign-in locked',
  claim: 'Claimed the chat', release: 'Released to the queue', transfer: 'Transferred', resolve: 'Resolved',
  send_message: 'Wrote to the customer', escalate: 'Escalated to a person', view_conversation: 'Opened the chat',
  watch_conversation: 'Watched the chat live', view_account: 'Viewed the account', settle_dispute: 'Settled a dispute',
  take_payment: 'Took a payment', approve_arrangement: 'Set up an arrangement', audit_export: 'Exported the audit log',
  report_export: 'Exported a report table', payment_page_outcome: 'Payment page result',
  training_teach: 'Taught the bot',
};

function actionText(action) {
  if (ACTIONS[action]) { return ACTIONS[action]; }
  if (action.endsWith('_refused')) { return (ACTIONS[action.slice(0, -8)] || action.slice(0, -8)) + ' (refused)'; }
  const words = action.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function detailsText(details) {
  if (!details) { return ''; }
  return Object.entries(details).map(([key, value]) => key.replace(/_/g, ' ') + ': '
    + (typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value))).join(' · ');
}

function row(entry) {
  const tr = el('tr', null, 'audit-entry');
  tr.setAttribute('data-action', entry.action);
  const when = el('td');
  const time = el('time', null, 'audit-time', entry.at_local);
  time.dateTime = entry.at;
  when.appendChild(time);
  if (entry.count > 1) {
    when.appendChild(el('span', 'audit-count', 'audit-count', ' × ' + entry.count));
    when.title = 'From ' + entry.first_at + ' to ' + entry.at;
  }
  tr.appendChild(when);
  const who = el('td', null, 'audit-actor', entry.actor_name);
  who.title = entry.actor;
  tr.appendChild(who);
  tr.appendChild(el('td', null, 'audit-action', actionText(entry.action)));
  tr.appendChild(el('td', null, 'audit-target', entry.target_label || ''));
  tr.appendChild(el('td', 'muted', 'audit-details', detailsText(entry.details)));
  return tr;
}

export function showAudit(data) {
  setText('audit-zone', '(times in ' + data.timezone + ')');
  byId('audit-list').replaceChildren(...data.entries.map(row));
}
