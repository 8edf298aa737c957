// The account panel's payment reminders (issue 19, "Outreach on time"): what the billing job emailed the
// customer, newest first, with the email's status and whether the customer saw it in the chat.
// account.js calls loadReminders(conversationId) after the account; this module owns its own section.

import { api, conversationPath } from './api.js';
import { byId, el } from './dom.js';
import { localTime } from './format.js';

const LIST_ID = 'account-reminders';
const KIND_LABELS = {
  due_soon: 'Due soon',
  past_due: 'Past due',
  autopay_failed: 'Autopay failed',
  card_expiring: 'Card expiring',
  promise_due: 'Promise due',
};

function section() {
  let list = byId(LIST_ID);
  if (!list) {
    const panel = byId('account-panel');
    panel.appendChild(el('h4', null, null, 'Reminders'));
    list = el('ul', 'reminders', LIST_ID);
    list.id = LIST_ID;
    panel.appendChild(list);
  }
  return list;
}

function reminderItem(reminder) {
  const parts = [reminder.day, KIND_LABELS[reminder.kind] || reminder.kind, reminder.headline,
    'email ' + (reminder.mail_status || 'unknown')];
  parts.push(reminder.seen_at ? 'seen in chat ' + localTime(reminder.seen_at) : 'not seen in chat');
  const item = el('li', 'reminder', 'account-reminder', parts.join(' · '));
  item.setAttribute('data-kind', reminder.kind);
  return item;
}

export async function loadReminders(conversationId) {
  const list = section();
  list.replaceChildren();
  try {
    const answer = await api('GET', conversationPath(conversationId, '/reminders'));
    list.replaceChildren(...(answer.reminders.length
      ? answer.reminders.map(reminderItem)
      : [el('li', null, 'account-reminders-none', 'None')]));
  } catch (error) {
    list.replaceChildren(el('li', 'error', 'account-reminders-error', error.message));
  }
}
