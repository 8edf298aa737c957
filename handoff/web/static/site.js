// Demo website: pick which seeded customer is "logged in", then mount the chat widget with their token.
(function () {
  'use strict';
  var picker = document.getElementById('customer-picker');
  var label = document.getElementById('signed-in-as');
  var root = document.getElementById('acme-chat');
  var STORAGE = 'acme-demo-customer';
  var widget = null;

  function mount(token, key) {
    if (widget) { widget.destroy(); }
    widget = window.AcmeChat.mount(root, { token: token, storageKey: 'acme-chat:' + key });
    window.acmeChatWidget = widget; // handy for tests and the browser console
  }

  function selectCustomer(value) {
    localStorage.setItem(STORAGE, value);
    if (!value) {
      label.textContent = 'Anonymous visitor';
      mount('', 'anonymous');
      return;
    }
    fetch('/demo/token', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, credentials: 'same-origin',
      body: JSON.stringify({ customer_id: Number(value) })
    }).then(function (response) {
      if (!response.ok) { throw new Error('token'); }
      return response.json();
    }).then(function (body) {
      label.textContent = body.customer.first_name + ' ' + body.customer.last_name + ' (customer ' + value + ')';
      mount(body.token, 'customer-' + value);
    }).catch(function () {
      label.textContent = 'Anonymous visitor (demo sign-in unavailable)';
      mount('', 'anonymous');
    });
  }

  fetch('/demo/customers', { credentials: 'same-origin' }).then(function (response) {
    if (!response.ok) { throw new Error('no demo'); }
    return response.json();
  }).then(function (body) {
    body.customers.forEach(function (customer) {
      var option = document.createElement('option');
      option.value = String(customer.customer_id);
      option.textContent = customer.first_name + ' ' + customer.last_name + ' — ' + customer.scenario;
      picker.appendChild(option);
    });
    var saved = localStorage.getItem(STORAGE) || '';
    picker.value = saved;
    if (picker.value !== saved) { picker.value = ''; }
    selectCustomer(picker.value);
  }).catch(function () {
    picker.disabled = true;
    selectCustomer('');
  });
  picker.addEventListener('change', function () { selectCustomer(picker.value); });
})();
