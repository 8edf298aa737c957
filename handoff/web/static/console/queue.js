// The specialist's sidebar: the live queue (their teams'; a chat past its team's SLA is marked), "my chats"
// and the colleagues or team queues a chat can be transferred to.

import { api } from './api.js';
import { button, byId, el } from './dom.js';
import { customerName, dollars, minutes, reasonLabel } from './format.js';

function queueMeta(entry) {
  const channel = entry.channel === 'email' ? 'Email · ' : 'Chat · ';
  const ticket = entry.state === 'ticket' ? 'Ticket ' + entry.ticket_number + ' · ' : '';
  const amount = entry.dispute_amount ? ' · ' + dollars(entry.dispute_amount) : '';
  const team = entry.team ? ' · ' + TEAM_LABELS[entry.team] : '';
  return channel + ticket + reasonLabel(entry.reason) + amount + team + ' · waiting ' +
    minutes(entry.waiting_seconds);
}

export const TEAM_LABELS = { disputes: 'Disputes team', payments: 'Payments team', general: 'General billing' };

function queueItem(entry, { onClaim, onOpen }) {
  const item = el('li', null, 'queue-item');
  item.setAttribute('data-conversation-id', entry.conversation_id);
  item.setAttribute('data-state', entry.state);
  item.setAttribute('data-reason', entry.reason || '');
  item.setAttribute('data-channel', entry.channel || 'chat');
  item.setAttribute('data-team', entry.team || 'general');
  if (entry.sla_breached) { item.setAttribute('data-sla-breached', 'true'); }
  item.appendChild(el('strong', null, 'queue-item-customer', customerName(entry) +
    (entry.customer_id ? ' (#' + entry.customer_id + ')' : '')));
  if (entry.sla_breached) { item.appendChild(el('span', 'sla-badge', 'queue-item-sla', 'Over SLA')); }
  item.appendChild(el('span', 'meta', 'queue-item-meta', queueMeta(entry)));
  if (entry.summary) { item.appendChild(el('span', 'meta', 'queue-item-summary', entry.summary)); }
  item.appendChild(button('Claim', 'queue-claim', () => onClaim(entry.conversation_id)));
  item.appendChild(button('Preview', 'queue-view', () => onOpen(entry.conversation_id)));
  return item;
}

function myChatItem(chat, onOpen) {
  const item = el('li', null, 'my-chat-item');
  item.setAttribute('data-conversation-id', chat.conversation_id);
  item.setAttribute('data-channel', chat.channel || 'chat');
  item.appendChild(el('span', null, null, customerName(chat) + ' · ' + (chat.channel === 'email' ? 'Email · ' : '') +
    reasonLabel(chat.reason)));
  item.appendChild(button('Open', 'my-chat-open', () => onOpen(chat.conversation_id)));
  return item;
}

function teamOption(team) {
  const option = el('option', null, null, TEAM_LABELS[team] + ' queue');
  option.value = 'team:' + team;
  return option;
}

function staffOption(colleague) {
  const presence = colleague.online ? ' (online)' : ' (offline)';
  const option = el('option', null, null, colleague.display_name + presence);
  option.value = colleague.username;
  return option;
}

// onClaim(conversationId) and onOpen(conversationId) are what the buttons in the lists do; onMyChats(chats)
// runs after "My chats" was shown (the inbox watches them for new messages).
export function createQueue({ user, onClaim, onOpen, onMyChats = () => {} }) {
  function render(entries) {
    const list = byId('queue-list');
    list.textContent = '';
    byId('queue-count').textContent = String(entries.length);
    byId('queue-empty').hidden = entries.length > 0;
    entries.forEach((entry) => list.appendChild(queueItem(entry, { onClaim, onOpen })));
  }

  async function loadMyChats() {
    try {
      const data = await api('GET', '/api/console/my-chats');
      byId('my-chats').replaceChildren(...data.chats.map((chat) => myChatItem(chat, onOpen)));
      onMyChats(data.chats);
    } catch (error) { /* the next change refreshes the list */ }
  }

  async function loadStaff() {
    try {
      const data = await api('GET', '/api/console/staff');
      const colleagues = data.staff.filter((colleague) => colleague.username !== user.username);
      const people = el('optgroup');
      people.label = 'Colleague';
      people.replaceChildren(...colleagues.map(staffOption));
      const teams = el('optgroup');
      teams.label = 'Back to a team queue';
      teams.replaceChildren(...Object.keys(TEAM_LABELS).map(teamOption));
      byId('transfer-select').replaceChildren(people, teams);
    } catch (error) { /* transfer then has nobody to offer */ }
  }

  return { render, loadMyChats, loadStaff };
}
