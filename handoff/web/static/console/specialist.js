// The specialist's screen (supervisors get it too, plus "Today" and the canned responses): the live queue,
// their chats and the open conversation, kept current by the console socket.

import { bindCanned, bindCannedAdmin } from './canned.js';
import { ConversationActions } from './conversation-actions.js';
import { Conversation } from './conversation.js';
import { Credits } from './credits.js';
import { byId, notify, onClick } from './dom.js';
import { minutes } from './format.js';
import { Inbox, beep } from './inbox.js';
import { Notes } from './notes.js';
import { PaymentActions } from './payment-actions.js';
import { TEAM_LABELS, createQueue } from './queue.js';
import { createConsoleSocket } from './socket.js';
import { bindSearch } from './search.js';
import { bindSupervisor } from './supervisor.js';
import { startModelPanel } from './trainer-model.js';

const BASE_TITLE = document.title;
const VIEWS = ['work-view', 'supervisor-view', 'canned-view', 'trainer-view'];
let titleTimer = null;

function alertNewChat() {
  beep();
  let flashes = 0;
  clearInterval(titleTimer);
  titleTimer = setInterval(() => {
    document.title = flashes % 2 === 0 ? '● New chat — ' + BASE_TITLE : BASE_TITLE;
    flashes += 1;
    if (flashes > 10) { clearInterval(titleTimer); document.title = BASE_TITLE; }
  }, 700);
}

// A queued chat waited past its team's SLA: the notice, a beep and (once allowed) a desktop alert.
function alertSla(frame) {
  const text = 'Over SLA: a chat in the ' + (TEAM_LABELS[frame.team] || frame.team) + ' queue has waited ' +
    minutes(frame.waiting_seconds) + ' (SLA ' + minutes(frame.threshold_seconds) + ').';
  notify(text);
  beep();
  if (!('Notification' in window) || Notification.permission !== 'granted') { return; }
  try {
    const shown = new Notification('Over SLA', { body: text, tag: 'sla-' + frame.conversation_id });
    shown.onclick = () => window.focus();
  } catch (error) { /* the notice above still shows */ }
}

function showConnection(state, label) {
  const indicator = byId('console-connection');
  indicator.setAttribute('data-state', state);
  indicator.textContent = label;
}

function show(viewId) {
  VIEWS.forEach((id) => { byId(id).hidden = id !== viewId; });
}

function handleFrame(frame, { queue, conversation, inbox, credits }) {
  switch (frame.type) {
    case 'hello': queue.render(frame.queue); break;
    case 'queue':
      queue.render(frame.entries);
      if (frame.new_chat) { alertNewChat(); }
      break;
    case 'message':
      inbox.message(frame);
      conversation.receive(frame);
      break;
    case 'typing':
    case 'note': conversation.receive(frame); break;
    case 'status':
    case 'conversation_changed':
      conversation.receive(frame);
      queue.loadMyChats();
      break;
    case 'credits_changed': credits.changed(frame.conversation_id); break;
    case 'transferred_to_you':
      notify(frame.from + ' transferred a chat to you.');
      alertNewChat();
      queue.loadMyChats();
      break;
    case 'sla_breach':  // supervisors only: a queued chat waited past its team's threshold
      alertSla(frame);
      break;
    case 'error': notify(frame.message); break;
    default: break;
  }
}

// Supervisors retrain, ship and roll back the bot too: the trainer's model panel, without the review.
function bindModelPanel() {
  byId('nav-model').hidden = false;
  onClick('nav-model', () => {
    byId('training-review').hidden = true;
    show('trainer-view');
    startModelPanel({ indicator: false });
  });
}

function bindNavigation(user) {
  onClick('nav-queue', () => show('work-view'));
  if (user.role === 'supervisor') {
    bindSupervisor();
    onClick('nav-supervisor', () => show('supervisor-view'));  // after supervisor.js loads its figures
    bindCannedAdmin({ show });
    bindModelPanel();
  }
}

export function startSpecialist(user) {
  const socket = createConsoleSocket({
    onState: showConnection,
    onOpen: () => { conversation.resume(); inbox.rewatch(); },
    onFrame: (frame) => handleFrame(frame, { queue, conversation, inbox, credits }),
  });
  const conversation = new Conversation({ user, socket });
  const inbox = new Inbox({ conversation, socket }).bind();
  const actions = new ConversationActions({ conversation, onChanged: () => queue.loadMyChats() }).bind();
  new PaymentActions({ conversation }).bind();
  new Notes({ conversation }).bind();
  const credits = new Credits({ conversation, user }).bind();
  bindCanned({ conversation });
  const queue = createQueue({
    user, onClaim: (id) => actions.claim(id), onOpen: (id) => inbox.open(id),
    onMyChats: (chats) => inbox.setChats(chats),
  });
  bindSearch({ onOpen: (id) => { show('work-view'); inbox.open(id); } });
  bindNavigation(user);
  queue.loadMyChats();
  queue.loadStaff();
}
