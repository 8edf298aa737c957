// The specialist's screen (supervisors get it too, plus "Today"): the live queue, their chats and the
// open conversation, kept current by the console socket.

import { ConversationActions } from './conversation-actions.js';
import { Conversation } from './conversation.js';
import { byId, notify, onClick } from './dom.js';
import { PaymentActions } from './payment-actions.js';
import { createQueue } from './queue.js';
import { createConsoleSocket } from './socket.js';
import { bindSupervisor } from './supervisor.js';

const BASE_TITLE = document.title;
let titleTimer = null;

function beep() {
  try {  // browsers may block audio until the page was clicked once
    const audio = new (window.AudioContext || window.webkitAudioContext)();
    const tone = audio.createOscillator();
    tone.frequency.value = 880;
    tone.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.15);
  } catch (error) { /* no audio: the title still flashes */ }
}

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

function showConnection(state, label) {
  const indicator = byId('console-connection');
  indicator.setAttribute('data-state', state);
  indicator.textContent = label;
}

function handleFrame(frame, { queue, conversation }) {
  switch (frame.type) {
    case 'hello': queue.render(frame.queue); break;
    case 'queue':
      queue.render(frame.entries);
      if (frame.new_chat) { alertNewChat(); }
      break;
    case 'message':
    case 'typing': conversation.receive(frame); break;
    case 'status':
    case 'conversation_changed':
      conversation.receive(frame);
      queue.loadMyChats();
      break;
    case 'transferred_to_you':
      notify(frame.from + ' transferred a chat to you.');
      alertNewChat();
      queue.loadMyChats();
      break;
    case 'error': notify(frame.message); break;
    default: break;
  }
}

function bindNavigation(user) {
  onClick('nav-queue', () => {
    byId('supervisor-view').hidden = true;
    byId('work-view').hidden = false;
  });
  if (user.role === 'supervisor') { bindSupervisor(); }
}

export function startSpecialist(user) {
  const socket = createConsoleSocket({
    onState: showConnection,
    onOpen: () => conversation.resume(),
    onFrame: (frame) => handleFrame(frame, { queue, conversation }),
  });
  const conversation = new Conversation({ user, socket });
  const actions = new ConversationActions({ conversation, onChanged: () => queue.loadMyChats() }).bind();
  new PaymentActions({ conversation }).bind();
  const queue = createQueue({
    user, onClaim: (id) => actions.claim(id), onOpen: (id) => conversation.open(id),
  });
  bindNavigation(user);
  queue.loadMyChats();
  queue.loadStaff();
}
