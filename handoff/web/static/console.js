// Specialist console: login, live queue, conversation view, supervisor figures. Plain JS, textContent only.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var me = null;
  var csrfToken = '';      // from /login or /me; sent with every change (the session cookie alone is refused)
  var socket = null;
  var retry = 0;
  var current = null;      // the open conversation's detail
  var lastSeq = 0;
  var renderedSeqs = {};
  var titleTimer = null;
  var baseTitle = document.title;

  function el(tag, className, testId, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (testId) { node.setAttribute('data-testid', testId); }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function api(method, path, body) {
    var options = { method: method, credentials: 'same-origin', headers: {} };
    if (method !== 'GET' && csrfToken) { options.headers['X-CSRF-Token'] = csrfToken; }
    if (body !== undefined) { options.headers['Content-Type'] = 'application/json'; options.body = JSON.stringify(body); }
    return fetch(path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error((data.error && data.error.message) || ('Request failed (' + response.status + ')'));
          error.status = response.status; error.code = data.error && data.error.code;
          throw error;
        }
        return data;
      });
    });
  }

  function notify(text) {
    var notice = $('console-notice');
    notice.textContent = text;
    notice.hidden = false;
    clearTimeout(notify.timer);
    notify.timer = setTimeout(function () { notice.hidden = true; }, 8000);
  }

  function minutes(seconds) {
    if (seconds === null || seconds === undefined) { return '—'; }
    if (seconds < 60) { return Math.round(seconds) + ' s'; }
    return (seconds / 60).toFixed(1) + ' min';
  }

  function percent(rate) { return rate === null || rate === undefined ? '—' : Math.round(rate * 100) + '%'; }

  // ---- login ---------------------------------------------------------------------------------
  $('login-form').addEventListener('submit', function (event) {
    event.preventDefault();
    $('login-error').hidden = true;
    api('POST', '/api/console/login', { username: $('login-username').value, password: $('login-password').value })
      .then(function (data) { csrfToken = data.csrf_token; start(data.user); })
      .catch(function (error) { $('login-error').textContent = error.message; $('login-error').hidden = false; });
  });

  $('logout-button').addEventListener('click', function () {
    api('POST', '/api/console/logout').finally(function () { location.reload(); });
  });

  function start(user) {
    me = user;
    $('login-view').hidden = true;
    $('app-view').hidden = false;
    $('console-user').textContent = user.display_name + ' (' + user.role + ')';
    $('console-user').setAttribute('data-role', user.role);
    if (user.role === 'trainer') {
      $('trainer-view').hidden = false;
      $('work-view').hidden = true;
      $('nav-queue').hidden = true;
      startTraining();
      return;
    }
    $('nav-supervisor').hidden = user.role !== 'supervisor';
    connect();
    loadMyChats();
    loadStaff();
  }

  $('nav-queue').addEventListener('click', function () { $('supervisor-view').hidden = true; $('work-view').hidden = false; });
  $('nav-supervisor').addEventListener('click', function () {
    $('work-view').hidden = true; $('supervisor-view').hidden = false; loadStats();
  });
  $('stats-refresh').addEventListener('click', loadStats);

  // ---- review and teach (trainer role) --------------------------------------------------------
  var INTENT_NAME = /^[a-z][a-z0-9_]*$/;
  var knownIntents = [];

  function trainingError(text) {
    $('training-error').textContent = text || '';
    $('training-error').hidden = !text;
  }

  function startTraining() {
    $('training-refresh').addEventListener('click', loadReview);
    api('GET', '/api/console/training/intents')
      .then(function (data) { knownIntents = data.intents || []; })
      .catch(function (error) { trainingError(error.message); })
      .then(loadReview);
  }

  function loadReview() {
    trainingError('');
    var threshold = parseFloat($('training-threshold').value);
    var query = isNaN(threshold) ? '' : '?threshold=' + encodeURIComponent(threshold);
    $('training-summary').textContent = 'Loading…';
    api('GET', '/api/console/training/review' + query).then(function (data) {
      var clusters = data.clusters || [];
      $('training-summary').textContent = clusters.length
        ? data.messages + ' messages in ' + clusters.length + ' groups (confidence threshold ' + data.threshold + ').'
        : 'Nothing to review: no badly handled messages below confidence ' + data.threshold + '.';
      var list = $('training-clusters');
      list.replaceChildren();
      clusters.forEach(function (cluster) { list.appendChild(clusterItem(cluster)); });
    }).catch(function (error) {
      $('training-summary').textContent = '';
      trainingError(error.message);
    });
  }

  function transcriptExcerpt(example) {
    var details = el('details', 'excerpt', 'training-transcript');
    details.appendChild(el('summary', null, null, 'Conversation ' + example.sender_id +
      (example.timestamp ? ' at ' + example.timestamp : '')));
    var lines = el('ol', 'transcript');
    example.transcript.forEach(function (line) {
      var item = el('li', null, 'training-transcript-line');
      item.setAttribute('data-sender', line.speaker === 'customer' ? 'customer' : (line.speaker === 'agent' ? 'agent' : 'bot'));
      if (line.flagged) { item.setAttribute('data-flagged', 'true'); }
      item.appendChild(el('span', 'who', null, line.speaker + ':'));
      item.appendChild(el('span', null, null, line.text));
      lines.appendChild(item);
    });
    details.appendChild(lines);
    return details;
  }

  function clusterItem(cluster) {
    var item = el('li', 'cluster', 'training-cluster');
    item.setAttribute('data-cluster-id', cluster.cluster_id);
    var head = el('div', 'cluster-head');
    head.appendChild(el('span', 'count', 'training-cluster-count', '×' + cluster.count));
    head.appendChild(el('strong', null, 'training-cluster-text', cluster.representative));
    item.appendChild(head);
    var reasons = cluster.reasons.map(function (r) { return r.label + ' ' + r.count; }).join(', ');
    item.appendChild(el('p', 'muted', 'training-cluster-reasons', 'Why: ' + reasons + ' · ' + cluster.conversations +
      ' conversation(s)' + (cluster.suggested_intent ? ' · best guess: ' + cluster.suggested_intent : '')));
    var phrasings = el('ul', 'phrasings', 'training-cluster-phrasings');
    cluster.distinct_texts.forEach(function (text) { phrasings.appendChild(el('li', null, null, text)); });
    item.appendChild(phrasings);
    (cluster.examples || []).forEach(function (example) { item.appendChild(transcriptExcerpt(example)); });

    var form = el('div', 'teach');
    var select = el('select', null, 'training-intent-select');
    select.appendChild(el('option', null, null, 'Choose an intent…')).value = '';
    knownIntents.forEach(function (name) {
      var option = el('option', null, null, name);
      option.value = name;
      if (name === cluster.suggested_intent) { option.selected = true; }
      select.appendChild(option);
    });
    var button = el('button', null, 'training-teach-button', 'Add as examples');
    button.type = 'button';
    button.addEventListener('click', function () { teach(cluster, select.value, button); });
    form.appendChild(select);
    form.appendChild(button);
    var newIntent = el('input', null, 'training-new-intent');
    newIntent.placeholder = 'or a new intent name';
    newIntent.maxLength = 64;
    var hint = el('p', 'muted', 'training-new-intent-hint');
    hint.hidden = true;
    newIntent.addEventListener('input', function () {
      var name = newIntent.value.trim();
      hint.hidden = !name;
      if (!name) { return; }
      if (!INTENT_NAME.test(name)) {
        hint.textContent = 'Intent names are lower_snake_case, e.g. update_payment_method.';
      } else if (knownIntents.indexOf(name) >= 0) {
        hint.textContent = name + ' already exists: choose it in the list instead.';
      } else {
        hint.textContent = 'A new intent needs domain stubs (responses, rules), so this page does not create it. ' +
          'In a terminal run: make review && make new-intent NAME=' + name +
          ' FROM_REVIEW=var/review.json CLUSTER=' + cluster.cluster_id;
      }
    });
    form.appendChild(newIntent);
    item.appendChild(form);
    item.appendChild(hint);
    return item;
  }

  function teach(cluster, intent, button) {
    trainingError('');
    if (!intent) { trainingError('Choose the intent these messages mean first.'); return; }
    button.disabled = true;
    api('POST', '/api/console/training/examples',
        { intent: intent, examples: cluster.distinct_texts, cluster_id: cluster.cluster_id })
      .then(function (result) { showTeachResult(result); })
      .catch(function (error) { trainingError(error.message); })
      .finally(function () { button.disabled = false; });
  }

  function showTeachResult(result) {
    var box = $('training-result');
    box.replaceChildren();
    box.appendChild(el('strong', null, null, result.added.length
      ? 'Added ' + result.added.length + ' example(s) to ' + result.intent + ' in ' + result.file + ':'
      : 'Nothing added to ' + result.intent + ': these examples are already there.'));
    var added = el('ul', null, 'training-result-added');
    result.added.forEach(function (text) { added.appendChild(el('li', null, null, text)); });
    box.appendChild(added);
    if (result.skipped.length) {
      box.appendChild(el('p', 'muted', null, 'Already examples of ' + result.intent + ': ' + result.skipped.join(' · ')));
    }
    box.appendChild(el('p', null, 'training-next-step', 'Next: ' + result.next_step + '.'));
    box.hidden = false;
  }

  // ---- live connection -----------------------------------------------------------------------
  function connect() {
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    var ws = new WebSocket(scheme + location.host + '/ws/console');
    socket = ws;
    $('console-connection').setAttribute('data-state', 'connecting');
    $('console-connection').textContent = 'connecting…';
    ws.onopen = function () {
      retry = 0;
      $('console-connection').setAttribute('data-state', 'connected');
      $('console-connection').textContent = 'online';
      if (current) { watch(current.conversation_id); catchUp(); }
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      handle(frame);
    };
    ws.onclose = function (event) {
      if (socket !== ws) { return; }
      if (event.code === 4401) { location.reload(); return; }  // the session ended: back to the sign-in form
      $('console-connection').setAttribute('data-state', 'reconnecting');
      $('console-connection').textContent = 'reconnecting…';
      var delay = Math.min(10000, 500 * Math.pow(2, retry)); retry += 1;
      setTimeout(connect, delay);
    };
  }
  setInterval(function () { if (socket && socket.readyState === WebSocket.OPEN) { socket.send('{"type":"ping"}'); } }, 20000);

  function watch(conversationId) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: 'watch', conversation_id: conversationId }));
    }
  }

  function handle(frame) {
    switch (frame.type) {
      case 'hello': renderQueue(frame.queue); break;
      case 'queue':
        renderQueue(frame.entries);
        if (frame.new_chat) { alertNewChat(); }
        break;
      case 'message':
        if (current && frame.conversation_id === current.conversation_id) { renderMessage(frame.message); }
        break;
      case 'typing':
        if (current && frame.conversation_id === current.conversation_id) {
          $('customer-typing').hidden = false;
          clearTimeout(handle.typingTimer);
          handle.typingTimer = setTimeout(function () { $('customer-typing').hidden = true; }, 3000);
        }
        break;
      case 'status':
      case 'conversation_changed':
        if (current && frame.conversation_id === current.conversation_id) { refreshConversation(); }
        loadMyChats();
        break;
      case 'transferred_to_you':
        notify(frame.from + ' transferred a chat to you.');
        alertNewChat();
        loadMyChats();
        break;
      case 'error': notify(frame.message); break;
      default: break;
    }
  }

  function alertNewChat() {
    try {  // a short beep; browsers may block audio until the page was clicked once
      var audio = new (window.AudioContext || window.webkitAudioContext)();
      var tone = audio.createOscillator();
      tone.frequency.value = 880; tone.connect(audio.destination); tone.start(); tone.stop(audio.currentTime + 0.15);
    } catch (e) { /* no audio: the title still flashes */ }
    var flashes = 0;
    clearInterval(titleTimer);
    titleTimer = setInterval(function () {
      document.title = flashes % 2 === 0 ? '● New chat — ' + baseTitle : baseTitle;
      flashes += 1;
      if (flashes > 10) { clearInterval(titleTimer); document.title = baseTitle; }
    }, 700);
  }

  // ---- queue -----------------------------------------------------------------------------------
  function renderQueue(entries) {
    var list = $('queue-list');
    list.textContent = '';
    $('queue-count').textContent = String(entries.length);
    $('queue-empty').hidden = entries.length > 0;
    entries.forEach(function (entry) {
      var item = el('li', null, 'queue-item');
      item.setAttribute('data-conversation-id', entry.conversation_id);
      item.setAttribute('data-state', entry.state);
      item.setAttribute('data-reason', entry.reason || '');
      item.appendChild(el('strong', null, 'queue-item-customer', (entry.customer_name || 'Anonymous visitor') +
        (entry.customer_id ? ' (#' + entry.customer_id + ')' : '')));
      var meta = (entry.state === 'ticket' ? 'Ticket ' + entry.ticket_number + ' · ' : '') + (entry.reason || 'request') +
        (entry.dispute_amount ? ' · $' + entry.dispute_amount : '') + ' · waiting ' + minutes(entry.waiting_seconds);
      item.appendChild(el('span', 'meta', 'queue-item-meta', meta));
      if (entry.summary) { item.appendChild(el('span', 'meta', 'queue-item-summary', entry.summary)); }
      var claim = el('button', null, 'queue-claim', 'Claim');
      claim.type = 'button';
      claim.addEventListener('click', function () { claimChat(entry.conversation_id); });
      item.appendChild(claim);
      var view = el('button', null, 'queue-view', 'Preview');
      view.type = 'button';
      view.addEventListener('click', function () { openConversation(entry.conversation_id); });
      item.appendChild(view);
      list.appendChild(item);
    });
  }

  function claimChat(conversationId) {
    api('POST', '/api/console/conversations/' + encodeURIComponent(conversationId) + '/claim')
      .then(function () { openConversation(conversationId); loadMyChats(); })
      .catch(function (error) { notify(error.message); });
  }

  function loadMyChats() {
    api('GET', '/api/console/my-chats').then(function (data) {
      var list = $('my-chats');
      list.textContent = '';
      data.chats.forEach(function (chat) {
        var item = el('li', null, 'my-chat-item');
        item.setAttribute('data-conversation-id', chat.conversation_id);
        item.appendChild(el('span', null, null, (chat.customer_name || 'Anonymous visitor') + ' · ' + (chat.reason || '')));
        var open = el('button', null, 'my-chat-open', 'Open');
        open.type = 'button';
        open.addEventListener('click', function () { openConversation(chat.conversation_id); });
        item.appendChild(open);
        list.appendChild(item);
      });
    }).catch(function () {});
  }

  function loadStaff() {
    api('GET', '/api/console/staff').then(function (data) {
      var select = $('transfer-select');
      select.textContent = '';
      data.staff.filter(function (s) { return s.username !== me.username; }).forEach(function (s) {
        var option = el('option', null, null, s.display_name + (s.online ? ' (online)' : ' (offline)'));
        option.value = s.username;
        select.appendChild(option);
      });
    }).catch(function () {});
  }

  // ---- conversation ----------------------------------------------------------------------------
  function openConversation(conversationId) {
    if (current && current.conversation_id !== conversationId && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: 'unwatch', conversation_id: current.conversation_id }));
    }
    $('conversation-transcript').textContent = '';
    renderedSeqs = {}; lastSeq = 0;
    current = { conversation_id: conversationId };
    watch(conversationId);
    api('GET', '/api/console/conversations/' + encodeURIComponent(conversationId)).then(function (detail) {
      showDetail(detail);
      detail.messages.forEach(renderMessage);
      if (detail.state === 'assigned' && detail.assigned_to && detail.assigned_to.username === me.username) {
        loadAccount(conversationId);
      } else {
        clearAccount();
      }
    }).catch(function (error) { notify(error.message); });
  }

  function refreshConversation() {
    if (!current) { return; }
    var id = current.conversation_id;
    api('GET', '/api/console/conversations/' + encodeURIComponent(id) + '?after_seq=' + lastSeq).then(function (detail) {
      var wasMine = current.state === 'assigned' && current.assigned_to && current.assigned_to.username === me.username;
      showDetail(detail);
      detail.messages.forEach(renderMessage);
      var isMine = detail.state === 'assigned' && detail.assigned_to && detail.assigned_to.username === me.username;
      if (isMine && !wasMine) { loadAccount(id); }
    }).catch(function () {});
  }

  function catchUp() { refreshConversation(); }

  function showDetail(detail) {
    current = detail;
    var view = $('conversation-view');
    view.hidden = false;
    view.setAttribute('data-conversation-id', detail.conversation_id);
    view.setAttribute('data-state', detail.state);
    $('conversation-title').textContent = (detail.customer_name || 'Anonymous visitor') +
      (detail.customer_id ? ' — customer #' + detail.customer_id : '');
    $('conversation-state').textContent = detail.state + (detail.assigned_to ? ' · ' + detail.assigned_to.display_name : '');
    var ctx = detail.context || {};
    $('context-reason').textContent = detail.reason || '—';
    $('context-summary').textContent = ctx.summary || '—';
    $('context-dispute-id').textContent = detail.dispute_id ? '#' + detail.dispute_id + (detail.dispute_amount ? ' · $' + detail.dispute_amount : '') : '—';
    var item = ctx.line_item;
    $('context-line-item').textContent = item ? (item.description || item.charge_type || 'charge') + ' · $' + item.amount +
      (item.invoice_number ? ' · ' + item.invoice_number : '') : '—';
    var explanation = ctx.explanation;
    $('context-explanation').textContent = !explanation ? '—' : (typeof explanation === 'string' ? explanation :
      [explanation.summary, explanation.computation, explanation.policy].filter(Boolean).join(' '));
    var slots = $('context-slots');
    slots.textContent = '';
    Object.keys(ctx.slots || {}).forEach(function (key) {
      var value = ctx.slots[key];
      if (value === null || value === undefined || value === '') { return; }
      slots.appendChild(el('dt', null, null, key));
      slots.appendChild(el('dd', null, 'context-slot', typeof value === 'object' ? JSON.stringify(value) : value));
    });
    var mine = detail.state === 'assigned' && detail.assigned_to && detail.assigned_to.username === me.username;
    var claimable = detail.state === 'queued' || detail.state === 'ticket';
    $('claim-button').hidden = !claimable;
    ['agent-send', 'agent-input', 'release-button', 'transfer-button', 'resolve-button', 'settle-accept-button',
      'settle-reject-button'].forEach(function (id) { $(id).disabled = !(mine || (me.role === 'supervisor' && detail.state === 'assigned')); });
    $('settle-panel').hidden = !detail.dispute_id;
    if (detail.dispute_amount && !$('settle-credit-amount').value) { $('settle-credit-amount').value = detail.dispute_amount; }
  }

  function renderMessage(message) {
    if (renderedSeqs[message.seq]) { return; }
    renderedSeqs[message.seq] = true;
    lastSeq = Math.max(lastSeq, message.seq);
    var item = el('li', null, 'transcript-message');
    item.setAttribute('data-sender', message.sender);
    item.setAttribute('data-seq', String(message.seq));
    var who = { customer: (current && current.customer_name) || 'Customer', bot: 'Bot', agent: message.agent_name || 'Agent', system: '' }[message.sender];
    if (who) { item.appendChild(el('span', 'who', null, who + ':')); }
    item.appendChild(el('span', null, 'transcript-text', message.text));
    if (message.buttons && message.buttons.length) {
      item.appendChild(el('span', 'muted', null, ' [' + message.buttons.map(function (b) { return b.title; }).join(' | ') + ']'));
    }
    var list = $('conversation-transcript');
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
    if (message.sender === 'customer') { $('customer-typing').hidden = true; }
  }

  $('agent-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var text = $('agent-input').value.trim();
    if (!text || !current) { return; }
    var clientId = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
    $('agent-input').value = '';
    api('POST', '/api/console/conversations/' + encodeURIComponent(current.conversation_id) + '/messages',
      { text: text, client_id: clientId }).then(renderMessage).catch(function (error) {
      $('agent-input').value = text; notify(error.message);
    });
  });

  var lastTyping = 0;
  $('agent-input').addEventListener('input', function () {
    if (!current || Date.now() - lastTyping < 2000) { return; }
    lastTyping = Date.now();
    api('POST', '/api/console/conversations/' + encodeURIComponent(current.conversation_id) + '/typing').catch(function () {});
  });

  function act(path, body, done) {
    if (!current) { return; }
    api('POST', '/api/console/conversations/' + encodeURIComponent(current.conversation_id) + path, body)
      .then(function (data) { if (done) { done(data); } refreshConversation(); loadMyChats(); })
      .catch(function (error) { notify(error.message); });
  }

  $('claim-button').addEventListener('click', function () { if (current) { claimChat(current.conversation_id); } });
  $('release-button').addEventListener('click', function () { act('/release', undefined, function () { notify('Released back to the queue.'); }); });
  $('transfer-button').addEventListener('click', function () {
    act('/transfer', { to_username: $('transfer-select').value }, function () { notify('Transferred.'); });
  });
  $('settle-accept-button').addEventListener('click', function () {
    act('/settle', { decision: 'accepted', note: $('settle-note').value, credit_amount: $('settle-credit-amount').value },
      function (data) {
        $('settle-result').textContent = 'Dispute accepted' + (data.dispute && data.dispute.credit ? '; credit ' + (data.dispute.credit.amount || '') + ' issued.' : '.');
        $('resolve-outcome').value = 'credit_issued';
        loadAccount(current.conversation_id);
      });
  });
  $('settle-reject-button').addEventListener('click', function () {
    act('/settle', { decision: 'rejected', note: $('settle-note').value }, function () {
      $('settle-result').textContent = 'Dispute rejected.';
      $('resolve-outcome').value = 'dispute_rejected';
      loadAccount(current.conversation_id);
    });
  });
  $('resolve-button').addEventListener('click', function () {
    act('/resolve', { outcome: $('resolve-outcome').value }, function () { notify('Resolved; the bot has taken over.'); });
  });

  // ---- account snapshot ------------------------------------------------------------------------
  function clearAccount() {
    ['account-customer', 'account-balance', 'account-invoices', 'account-payments', 'account-disputes'].forEach(function (id) { $(id).textContent = ''; });
    $('account-error').hidden = false;
    $('account-error').textContent = 'Claim the chat to see the account.';
  }

  function loadAccount(conversationId) {
    api('GET', '/api/console/conversations/' + encodeURIComponent(conversationId) + '/account').then(function (data) {
      $('account-error').hidden = true;
      var customer = data.customer.ok ? data.customer.data : null;
      $('account-customer').textContent = customer ? customer.first_name + ' ' + customer.last_name + ' · ' +
        customer.account.account_number + ' · ' + customer.account.status + (customer.account.autopay ? ' · autopay' : '') : data.customer.error.message;
      var balance = data.balance.ok ? data.balance.data : null;
      $('account-balance').textContent = balance ? 'Total due ' + balance.total_due + ' ' + balance.currency +
        ' (past due ' + balance.past_due + ') · next ' + (balance.next_due_amount || '—') + ' on ' + (balance.next_due_date || '—') : data.balance.error.message;
      var invoices = $('account-invoices');
      invoices.textContent = '';
      (data.invoices.ok ? data.invoices.data : []).forEach(function (invoice) {
        var box = el('div', 'invoice', 'account-invoice');
        box.appendChild(el('strong', null, null, invoice.number + ' · ' + invoice.total + ' ' + (invoice.currency || '') + ' · ' + invoice.status));
        var lines = el('ul');
        (invoice.line_items || []).forEach(function (line) {
          lines.appendChild(el('li', null, 'account-line-item', line.description + ' — ' + line.amount + ' (' + line.charge_type + ')'));
        });
        box.appendChild(lines);
        invoices.appendChild(box);
      });
      if (!data.invoices.ok) { invoices.textContent = data.invoices.error.message; }
      var payments = $('account-payments');
      payments.textContent = '';
      (data.payments.ok ? data.payments.data : []).forEach(function (p) {
        payments.appendChild(el('li', null, 'account-payment', p.received_date + ' · ' + p.amount + ' · ' + p.method + ' · ' + p.status +
          (p.failure_reason ? ' (' + p.failure_reason + ')' : '')));
      });
      var disputes = $('account-disputes');
      disputes.textContent = '';
      (data.disputes.ok ? data.disputes.data : []).forEach(function (d) {
        disputes.appendChild(el('li', null, 'account-dispute', '#' + d.id + ' · ' + d.amount + ' · ' + d.status + ' · ' + (d.reason || '')));
      });
    }).catch(function (error) {
      $('account-error').hidden = false;
      $('account-error').textContent = error.message;
    });
  }

  // ---- supervisor ------------------------------------------------------------------------------
  function bars(container, values, labels) {
    container.textContent = '';
    var max = Math.max.apply(null, values.concat([1]));
    values.forEach(function (value, index) {
      var bar = el('div', 'bar', 'chart-bar');
      bar.setAttribute('data-value', String(value));
      bar.title = labels[index] + ': ' + value;
      var fill = el('div', 'fill');
      fill.style.height = Math.round((value / max) * 100) + '%';  // CSSOM, allowed by the CSP
      bar.appendChild(el('span', null, null, value ? String(value) : ''));
      bar.appendChild(fill);
      bar.appendChild(el('span', null, null, labels[index]));
      container.appendChild(bar);
    });
  }

  function loadStats() {
    api('GET', '/api/console/stats').then(function (s) {
      $('stats-date').textContent = s.date + ' (' + s.timezone + ')';
      $('stats-chats').textContent = String(s.chats);
      $('stats-bot-only-rate').textContent = percent(s.bot_only_resolution_rate);
      $('stats-escalation-rate').textContent = percent(s.escalation_rate);
      $('stats-median-wait').textContent = minutes(s.median_wait_seconds);
      $('stats-median-handling').textContent = minutes(s.median_handling_seconds);
      $('stats-csat').textContent = s.csat_average === null ? '—' : s.csat_average + ' / 5 (' + s.csat_responses + ')';
      bars($('chart-by-hour'), s.chats_by_hour, s.chats_by_hour.map(function (_, h) { return String(h); }));
      bars($('chart-csat'), [1, 2, 3, 4, 5].map(function (n) { return s.csat_distribution[String(n)]; }), ['1', '2', '3', '4', '5']);
    }).catch(function (error) { notify(error.message); });
    api('GET', '/api/console/audit?limit=50').then(function (data) {
      var list = $('audit-list');
      list.textContent = '';
      data.entries.forEach(function (entry) {
        list.appendChild(el('li', null, 'audit-entry', entry.at + ' · ' + entry.actor + ' · ' + entry.action + (entry.target ? ' · ' + entry.target : '')));
      });
    }).catch(function () {});
  }

  // ---- start -----------------------------------------------------------------------------------
  api('GET', '/api/console/me').then(function (user) { csrfToken = user.csrf_token; start(user); })
    .catch(function () { $('login-view').hidden = false; });
})();
