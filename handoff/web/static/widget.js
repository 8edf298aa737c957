// Acme chat widget: plain JS, no dependencies. Protocol: handoff/README.md.
// Messages carry a client id, stay in an outbox (localStorage) until the server acks them,
// and are resent after a reconnect; the server replays everything after the last seq we saw.
(function () {
  'use strict';

  function newClientId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return 'c-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 12);
  }

  function el(tag, className, testId, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (testId) { node.setAttribute('data-testid', testId); }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  // Who speaks, for screen readers (the bubbles' colours and sides say it to sighted customers).
  function speakerOf(frame) {
    if (frame.sender === 'customer') { return 'You'; }
    if (frame.sender === 'agent') { return (frame.agent_name || 'Specialist') + ', billing specialist'; }
    if (frame.sender === 'system') { return 'Notice'; }
    return 'Acme assistant';
  }

  function timeOf(date) {
    return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  // Relative while recent ("just now", "2 min ago"), then the time of day; refreshed every TIME_REFRESH_MS.
  var GROUP_MS = 60000;
  var TIME_REFRESH_MS = 15000;
  function timeLabel(date, now) {
    var age = now - date.getTime();
    if (age < 60000) { return 'just now'; }
    if (age < 3600000) { return Math.floor(age / 60000) + ' min ago'; }
    return timeOf(date);
  }

  // Errors that refuse one message for good: resending it would be refused again, so it leaves the outbox.
  var FINAL_REFUSALS = { payload_not_offered: true, empty_message: true, message_too_long: true, bad_frame: true };

  function ChatWidget(root, options) {
    this.root = root;
    this.token = options.token || '';
    this.storageKey = options.storageKey || 'acme-chat';
    this.saved = this.load();
    this.socket = null;
    this.closed = false;
    this.retry = 0;
    this.lastTypingSent = 0;
    this.renderedSeqs = {};
    this.pendingNodes = {};
    this.maxChars = null;  // the server's limit, from its welcome frame
    this.unread = 0;
    this.pageTitle = document.title;
    this.now = options.now || function () { return Date.now(); };  // injectable for tests
    this.readSeq = 0;  // a specialist saw our messages up to here ("Read"; docs/contracts.md)
    this.build();
    this.renderOutbox();
    if (this.saved.open) { this.open(); } else if (this.saved.conversationId) { this.connect(); }  // for the badge
  }

  ChatWidget.prototype.load = function () {
    try {
      var data = JSON.parse(localStorage.getItem(this.storageKey) || '{}');
      return { conversationId: data.conversationId || null, lastSeq: 0, outbox: data.outbox || [], open: !!data.open,
               seenSeq: Number(data.seenSeq) || 0 };
    } catch (e) {
      return { conversationId: null, lastSeq: 0, outbox: [], open: false, seenSeq: 0 };
    }
  };

  ChatWidget.prototype.save = function () {
    localStorage.setItem(this.storageKey, JSON.stringify({
      conversationId: this.saved.conversationId, outbox: this.saved.outbox, open: this.saved.open,
      seenSeq: this.saved.seenSeq  // the last message the customer had on screen: later ones are unread
    }));
  };

  ChatWidget.prototype.build = function () {
    var self = this;
    this.root.textContent = '';
    this.launcher = el('button', 'acme-chat-launcher', 'chat-launcher', 'Chat with us');
    this.launcher.type = 'button';
    this.badge = el('span', 'acme-chat-unread', 'chat-unread');
    this.badge.hidden = true;
    this.badge.setAttribute('aria-hidden', 'true');  // the hidden text below says it in words
    this.unreadText = el('span', 'acme-sr-only', null, '');
    this.launcher.appendChild(this.badge);
    this.launcher.appendChild(this.unreadText);
    var titleId = 'acme-chat-title-' + Math.random().toString(36).slice(2, 10);
    this.panel = el('section', 'acme-chat-panel', 'chat-panel');
    this.panel.hidden = true;
    this.panel.setAttribute('role', 'dialog');
    this.panel.setAttribute('aria-labelledby', titleId);
    var header = el('header', 'acme-chat-header');
    var title = el('h2', 'acme-chat-title', null, 'Acme Billing chat');
    title.id = titleId;
    header.appendChild(title);
    this.connection = el('span', 'acme-chat-connection', 'chat-connection', 'offline');
    this.connection.setAttribute('data-state', 'offline');
    header.appendChild(this.connection);
    this.closeButton = el('button', 'acme-chat-close', 'chat-close', '×');
    this.closeButton.type = 'button';
    this.closeButton.setAttribute('aria-label', 'Close chat');
    header.appendChild(this.closeButton);
    this.status = el('div', 'acme-chat-status', 'chat-status');
    this.status.hidden = true;
    this.status.setAttribute('data-state', 'bot');
    this.statusText = el('span', null, 'chat-status-text');
    this.position = el('span', 'acme-chat-position', 'chat-queue-position');
    this.eta = el('span', 'acme-chat-eta', 'chat-eta');
    this.ticket = el('span', 'acme-chat-ticket', 'chat-ticket-number');
    this.status.appendChild(this.statusText);
    this.status.appendChild(this.position);
    this.status.appendChild(this.eta);
    this.status.appendChild(this.ticket);
    this.notice = el('div', 'acme-chat-notice', 'chat-notice');
    this.notice.hidden = true;
    this.list = el('ol', 'acme-chat-messages', 'chat-messages');
    this.list.setAttribute('aria-live', 'polite');
    this.typing = el('div', 'acme-chat-typing', 'chat-typing');
    this.typing.hidden = true;
    this.form = el('form', 'acme-chat-form', 'chat-form');
    this.input = el('input', 'acme-chat-input', 'chat-input');
    this.input.type = 'text';
    this.input.placeholder = 'Type your message';
    this.input.setAttribute('aria-label', 'Message');
    this.sendButton = el('button', 'acme-chat-send', 'chat-send', 'Send');
    this.sendButton.type = 'submit';
    this.counter = el('span', 'acme-chat-count', 'chat-char-count');
    this.counter.id = 'acme-chat-count-' + Math.random().toString(36).slice(2, 10);
    this.counter.hidden = true;
    this.input.setAttribute('aria-describedby', this.counter.id);
    this.form.appendChild(this.input);
    this.form.appendChild(this.counter);
    this.form.appendChild(this.sendButton);
    // "Email me this conversation" (issue 19): signed-in customers only (the email goes to the address on file).
    this.transcriptButton = el('button', 'acme-chat-transcript', 'chat-email-transcript', 'Email me this conversation');
    this.transcriptButton.type = 'button';
    this.transcriptButton.hidden = true;
    [header, this.status, this.notice, this.list, this.typing, this.form, this.transcriptButton].forEach(function (n) { self.panel.appendChild(n); });
    this.root.appendChild(this.launcher);
    this.root.appendChild(this.panel);
    this.timeRefresher = setInterval(function () { self.refreshTimes(); }, TIME_REFRESH_MS);

    this.launcher.addEventListener('click', function () { self.open(); });
    this.closeButton.addEventListener('click', function () { self.close(); });
    this.transcriptButton.addEventListener('click', function () { self.emailTranscript(); });
    this.panel.addEventListener('keydown', function (event) {
      if (event.key === 'Escape') { event.preventDefault(); self.close(); }
    });
    this.form.addEventListener('submit', function (event) {
      event.preventDefault();
      var text = self.input.value.trim();
      if (!text || self.overLimit()) { return; }
      self.input.value = '';
      self.updateCounter();
      self.send(text, null);
    });
    this.input.addEventListener('input', function () {
      self.updateCounter();
      var now = Date.now();
      if (now - self.lastTypingSent > 2000 && self.isOpen()) {
        self.lastTypingSent = now;
        self.socket.send(JSON.stringify({ type: 'typing' }));
      }
    });
  };

  ChatWidget.prototype.overLimit = function () {
    return this.maxChars !== null && this.input.value.length > this.maxChars;
  };

  ChatWidget.prototype.updateCounter = function () {
    if (this.maxChars === null) { return; }
    this.counter.textContent = this.input.value.length + '/' + this.maxChars;
    this.counter.setAttribute('data-over', this.overLimit() ? 'true' : 'false');
    this.sendButton.disabled = this.overLimit();
  };

  ChatWidget.prototype.setLimit = function (maxChars) {
    if (typeof maxChars !== 'number' || maxChars < 1) { return; }
    this.maxChars = maxChars;
    this.input.maxLength = maxChars;
    this.counter.hidden = false;
    this.updateCounter();
  };

  ChatWidget.prototype.close = function () {
    this.panel.hidden = true;
    this.launcher.hidden = false;
    this.saved.open = false;
    this.save();
    this.launcher.focus();
  };

  // Messages that arrive while the panel is closed: a badge on the launcher and the count in the tab title.
  ChatWidget.prototype.setUnread = function (count) {
    this.unread = count;
    this.badge.textContent = count ? String(count) : '';
    this.badge.hidden = !count;
    this.unreadText.textContent = count ? ', ' + count + (count === 1 ? ' unread message' : ' unread messages') : '';
    document.title = count ? '(' + count + ') ' + this.pageTitle : this.pageTitle;
  };

  ChatWidget.prototype.markSeen = function () {
    if (this.saved.lastSeq > this.saved.seenSeq) { this.saved.seenSeq = this.saved.lastSeq; this.save(); }
  };

  ChatWidget.prototype.open = function () {
    this.panel.hidden = false;
    this.launcher.hidden = true;
    this.setUnread(0);
    this.markSeen();
    this.saved.open = true;
    this.save();
    if (!this.socket) { this.connect(); }
    this.input.focus();
  };

  ChatWidget.prototype.isOpen = function () { return this.socket && this.socket.readyState === WebSocket.OPEN; };

  ChatWidget.prototype.setConnection = function (state, text) {
    this.connection.setAttribute('data-state', state);
    this.connection.textContent = text;
  };

  ChatWidget.prototype.connect = function () {
    var self = this;
    if (this.closed) { return; }
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    var socket = new WebSocket(scheme + location.host + '/ws/chat?token=' + encodeURIComponent(this.token));
    this.socket = socket;
    this.setConnection('connecting', 'connecting…');
    socket.onopen = function () {
      socket.send(JSON.stringify({ type: 'hello', conversation_id: self.saved.conversationId, last_seq: self.saved.lastSeq }));
    };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      self.handle(frame);
    };
    socket.onclose = function () {
      if (self.socket !== socket) { return; }
      self.socket = null;
      clearInterval(self.pinger);
      if (self.closed) { return; }
      self.setConnection('reconnecting', 'reconnecting…');
      var delay = Math.min(10000, 500 * Math.pow(2, self.retry)) + Math.floor(Math.random() * 300);
      self.retry += 1;
      self.reconnectTimer = setTimeout(function () { self.connect(); }, delay);
    };
  };

  ChatWidget.prototype.handle = function (frame) {
    var self = this;
    switch (frame.type) {
      case 'welcome':
        if (frame.conversation_id !== this.saved.conversationId) {
          // A new conversation (first visit, or the old one is not ours): start the list afresh.
          this.list.textContent = '';
          this.renderedSeqs = {};
          this.pendingNodes = {};
          this.readSeq = 0;
          this.saved.lastSeq = 0;
          this.saved.seenSeq = 0;
          this.saved.conversationId = frame.conversation_id;
          this.save();
          this.renderOutbox();
        }
        this.retry = 0;
        this.setLimit(frame.max_message_chars);
        this.transcriptButton.hidden = !frame.customer;
        this.root.setAttribute('data-conversation-id', frame.conversation_id);
        this.setConnection('connected', 'online');
        this.showStatus({ state: frame.state });
        this.saved.outbox.forEach(function (item) { self.transmit(item); });
        this.pinger = setInterval(function () { if (self.isOpen()) { self.socket.send('{"type":"ping"}'); } }, 25000);
        break;
      case 'ack':
        this.saved.outbox = this.saved.outbox.filter(function (item) { return item.client_id !== frame.client_id; });
        this.save();
        var pending = this.pendingNodes[frame.client_id];
        if (pending) { this.markSent(pending, frame.seq); }
        // The bot answers stored messages (not while a person has the chat): say it is working on it.
        if (this.conversationState === 'bot' || this.conversationState === 'ticket') {
          this.showTyping('bot', 'The assistant is typing…', 30000);
        }
        break;
      case 'message':
        this.renderMessage(frame);
        break;
      case 'status':
        this.showStatus(frame);
        break;
      case 'read':
        this.markRead(frame.seq);
        break;
      case 'typing':
        this.showTyping('agent', (frame.agent_name || 'The specialist') + ' is typing…', 3000);
        break;
      case 'error':
        this.showNotice(frame.message || 'Something went wrong.');
        if (frame.client_id && FINAL_REFUSALS[frame.code]) { this.refuse(frame.client_id); }
        if (frame.code === 'invalid_token') { this.closed = true; this.setConnection('offline', 'signed out'); }
        break;
      default:
        break;
    }
  };

  // A message the server refused for good: it leaves the outbox and the list, and typed text comes back
  // to the input so nothing the customer wrote is lost (a refused button press just disappears).
  ChatWidget.prototype.refuse = function (clientId) {
    var item = this.saved.outbox.filter(function (candidate) { return candidate.client_id === clientId; })[0];
    this.saved.outbox = this.saved.outbox.filter(function (candidate) { return candidate.client_id !== clientId; });
    this.save();
    var node = this.pendingNodes[clientId];
    if (node && node.parentNode) { node.parentNode.removeChild(node); }
    delete this.pendingNodes[clientId];
    if (item && !item.payload && !this.input.value) {
      this.input.value = item.text;
      this.updateCounter();
    }
    this.refreshButtons();
  };

  ChatWidget.prototype.showNotice = function (text) {
    var self = this;
    this.notice.textContent = text;
    this.notice.hidden = false;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(function () { self.notice.hidden = true; }, 8000);
  };

  ChatWidget.prototype.showTyping = function (sender, text, forMs) {
    var self = this;
    this.typing.textContent = text;
    this.typing.setAttribute('data-sender', sender);
    this.typing.hidden = false;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(function () { self.typing.hidden = true; }, forMs);
  };

  ChatWidget.prototype.showStatus = function (frame) {
    this.conversationState = frame.state;
    this.status.setAttribute('data-state', frame.state);
    this.position.textContent = '';
    this.eta.textContent = '';
    this.ticket.textContent = '';
    if (frame.state === 'queued') {
      this.statusText.textContent = 'Waiting for a billing specialist. ';
      if (frame.position) { this.position.textContent = 'You are number ' + frame.position + ' in line. '; }
      // The server words the wait (frame.wait_text), as it does for the bot's message: they never disagree.
      if (frame.wait_text) { this.eta.textContent = 'Expected wait: ' + frame.wait_text + '.'; }
      this.status.hidden = false;
    } else if (frame.state === 'assigned') {
      this.statusText.textContent = 'You are chatting with ' + (frame.agent_name || 'a specialist') + ' from Billing.';
      this.status.hidden = false;
    } else if (frame.state === 'ticket') {
      this.statusText.textContent = 'Ticket ';
      this.ticket.textContent = frame.ticket_number || '';
      this.eta.textContent = frame.contact ? ' — ' + frame.contact : '';
      this.status.hidden = false;
    } else {
      this.statusText.textContent = '';
      this.status.hidden = true;
    }
  };

  ChatWidget.prototype.renderMessage = function (frame) {
    var self = this;
    if (this.renderedSeqs[frame.seq]) { return; }
    this.renderedSeqs[frame.seq] = true;
    this.saved.lastSeq = Math.max(this.saved.lastSeq, frame.seq);
    var node = frame.client_id ? this.pendingNodes[frame.client_id] : null;
    if (node) {  // our own message coming back from the server: keep one copy
      this.markSent(node, frame.seq);
      delete this.pendingNodes[frame.client_id];
      return;
    }
    node = el('li', 'acme-msg acme-msg-' + frame.sender, 'chat-message');
    node.setAttribute('data-sender', frame.sender);
    node.setAttribute('data-seq', String(frame.seq));
    node.appendChild(el('span', 'acme-sr-only', 'chat-message-speaker', speakerOf(frame) + ':'));
    if (frame.sender === 'agent' && frame.agent_name) {
      var name = el('span', 'acme-msg-name', 'chat-message-agent', frame.agent_name);
      name.setAttribute('aria-hidden', 'true');  // the speaker label already says it
      node.appendChild(name);
    }
    node.appendChild(el('span', 'acme-msg-text', 'chat-message-text', frame.text));
    if (frame.buttons && frame.buttons.length) {
      var row = el('div', 'acme-msg-buttons');
      frame.buttons.forEach(function (button) {
        if (button.url) {  // a link (the secure payment page): opened in a new tab, never sent as a message
          var link = el('a', 'acme-msg-button acme-msg-link', 'chat-link-button', button.title);
          link.href = button.url;
          link.target = '_blank';
          link.rel = 'noopener noreferrer';
          row.appendChild(link);
          return;
        }
        var b = el('button', 'acme-msg-button', 'chat-button', button.title);
        b.type = 'button';
        b.setAttribute('data-payload', button.payload);
        b.addEventListener('click', function () { if (!b.disabled) { self.send(button.title, button.payload); } });
        row.appendChild(b);
      });
      node.appendChild(row);
    }
    this.stamp(node, frame.created_at ? new Date(frame.created_at) : new Date(this.now()));
    if (frame.sender === 'customer') { this.showReceipt(node, frame.seq); }  // stored: at least "Sent"
    this.insertInOrder(node);
    if (frame.sender !== 'customer') { this.typing.hidden = true; }
    this.refreshButtons();
    if (!this.panel.hidden) {
      this.markSeen();
    } else if (frame.sender !== 'customer' && frame.seq > this.saved.seenSeq) {
      this.setUnread(this.unread + 1);
    }
  };

  ChatWidget.prototype.stamp = function (node, date) {
    if (isNaN(date.getTime())) { return; }
    var time = el('time', 'acme-msg-time', 'chat-message-time', timeLabel(date, this.now()));
    time.setAttribute('datetime', date.toISOString());
    time.setAttribute('title', date.toLocaleString());
    var receipt = node.querySelector('.acme-msg-receipt');
    node.insertBefore(time, receipt);  // before the receipt, if there is one
  };

  // Our own stored message: "Sent" (the server has it), or "Read" once a specialist saw it.
  ChatWidget.prototype.showReceipt = function (node, seq) {
    var read = seq <= this.readSeq;
    node.setAttribute('data-status', read ? 'read' : 'sent');
    var receipt = node.querySelector('.acme-msg-receipt');
    if (!receipt) {
      receipt = el('span', 'acme-msg-receipt', 'chat-message-receipt');
      node.appendChild(receipt);
    }
    receipt.textContent = read ? 'Read' : 'Sent';
  };

  ChatWidget.prototype.markRead = function (seq) {
    if (typeof seq !== 'number' || seq <= this.readSeq) { return; }
    this.readSeq = seq;
    var nodes = this.list.querySelectorAll('[data-sender="customer"][data-status="sent"]');
    for (var i = 0; i < nodes.length; i += 1) {
      var nodeSeq = Number(nodes[i].getAttribute('data-seq'));
      if (nodeSeq && nodeSeq <= seq) { this.showReceipt(nodes[i], nodeSeq); }
    }
  };

  // Only the current question's buttons are live: those of bot/system messages after the customer's last
  // message (sent or on its way), as the server accepts them (conversations/payloads.py). Older ones are
  // answered: a second click would be refused, and a rating already counted cannot change.
  ChatWidget.prototype.refreshButtons = function () {
    var live = true;  // walking back from the newest message until the customer's last one
    var nodes = this.list.children;
    for (var i = nodes.length - 1; i >= 0; i -= 1) {
      if (nodes[i].getAttribute('data-sender') === 'customer') { live = false; }
      var buttons = nodes[i].querySelectorAll('button.acme-msg-button');
      for (var j = 0; j < buttons.length; j += 1) { buttons[j].disabled = !live; }
    }
  };

  // Times grouped: consecutive messages of one speaker, each within a minute of the one before, share one
  // label, under the group's last message. Labels are relative, so they are rewritten as time passes.
  ChatWidget.prototype.refreshTimes = function () {
    var nodes = this.list.children;
    var now = this.now();
    for (var i = 0; i < nodes.length; i += 1) {
      var time = nodes[i].querySelector('time.acme-msg-time');
      if (!time) { continue; }
      var date = new Date(time.getAttribute('datetime'));
      time.textContent = timeLabel(date, now);
      var next = nodes[i + 1];
      var nextTime = next ? next.querySelector('time.acme-msg-time') : null;
      time.hidden = !!(nextTime && next.getAttribute('data-sender') === nodes[i].getAttribute('data-sender') &&
        new Date(nextTime.getAttribute('datetime')).getTime() - date.getTime() < GROUP_MS);
    }
  };

  ChatWidget.prototype.insertInOrder = function (node) {
    // The server delivers in seq order; unacknowledged messages stay at the bottom.
    var firstPending = this.list.querySelector('[data-status="pending"]');
    if (firstPending) { this.list.insertBefore(node, firstPending); } else { this.list.appendChild(node); }
    this.refreshTimes();
    this.list.scrollTop = this.list.scrollHeight;
  };

  ChatWidget.prototype.markSent = function (node, seq) {
    node.setAttribute('data-seq', String(seq));
    this.showReceipt(node, seq);
    var sending = node.querySelector('.acme-msg-sending');
    if (sending) {
      node.removeChild(sending);
      this.stamp(node, new Date(this.now()));
      this.refreshTimes();
    }
  };

  ChatWidget.prototype.renderPending = function (item) {
    var node = el('li', 'acme-msg acme-msg-customer', 'chat-message');
    node.setAttribute('data-sender', 'customer');
    node.setAttribute('data-status', 'pending');
    node.setAttribute('data-client-id', item.client_id);
    node.appendChild(el('span', 'acme-sr-only', 'chat-message-speaker', 'You:'));
    node.appendChild(el('span', 'acme-msg-text', 'chat-message-text', item.text));
    node.appendChild(el('span', 'acme-msg-sending', null, 'Sending…'));
    this.list.appendChild(node);
    this.pendingNodes[item.client_id] = node;
    this.list.scrollTop = this.list.scrollHeight;
    this.refreshButtons();
  };

  ChatWidget.prototype.renderOutbox = function () {
    var self = this;
    this.saved.outbox.forEach(function (item) { if (!self.pendingNodes[item.client_id]) { self.renderPending(item); } });
  };

  ChatWidget.prototype.transmit = function (item) {
    if (!this.isOpen()) { return; }
    var frame = { type: 'message', client_id: item.client_id, text: item.text };
    if (item.payload) { frame.payload = item.payload; }
    this.socket.send(JSON.stringify(frame));
  };

  ChatWidget.prototype.emailTranscript = function () {
    if (!this.isOpen()) { this.showNotice('Not connected; try again in a moment.'); return; }
    var button = this.transcriptButton;
    button.disabled = true;  // one request per press; the server confirms with a message in the chat
    setTimeout(function () { button.disabled = false; }, 5000);
    this.socket.send(JSON.stringify({ type: 'email_transcript', client_id: newClientId() }));
  };

  ChatWidget.prototype.send = function (text, payload) {
    var item = { client_id: newClientId(), text: text, payload: payload || undefined };
    this.saved.outbox.push(item);
    this.save();
    this.renderPending(item);
    this.transmit(item);
  };

  ChatWidget.prototype.destroy = function () {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pinger);
    clearInterval(this.timeRefresher);
    if (this.socket) { var s = this.socket; this.socket = null; s.close(); }
    document.title = this.pageTitle;
    this.root.textContent = '';
  };

  window.AcmeChat = {
    mount: function (root, options) { return new ChatWidget(root, options || {}); }
  };
})();
