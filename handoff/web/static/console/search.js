// Search past conversations (issue 17): customer name or number, account or invoice number, dispute id,
// ticket number or text. The service answers only what the user's role and work allow.

import { api } from './api.js';
import { button, byId, el, notify } from './dom.js';
import { customerName, humanize, localTime, reasonLabel } from './format.js';

function resultItem(result, onOpen) {
  const item = el('li', null, 'search-result');
  item.setAttribute('data-conversation-id', result.conversation_id);
  item.setAttribute('data-matched', result.matched);
  item.appendChild(el('strong', null, 'search-result-customer', customerName(result)));
  item.appendChild(el('span', 'meta', 'search-result-meta', humanize(result.state) + ' · ' +
    reasonLabel(result.reason) + ' · ' + localTime(result.updated_at)));
  item.appendChild(el('span', 'preview', 'search-result-snippet', result.snippet));
  item.appendChild(button('Open', 'search-open', () => onOpen(result.conversation_id)));
  return item;
}

export function bindSearch({ onOpen }) {
  byId('search-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const query = byId('search-input').value.trim();
    const list = byId('search-results');
    if (query.length < 2) { list.replaceChildren(); byId('search-summary').textContent = ''; return; }
    try {
      const data = await api('GET', '/api/console/search?q=' + encodeURIComponent(query));
      list.replaceChildren(...data.results.map((result) => resultItem(result, onOpen)));
      byId('search-summary').textContent = data.results.length ?
        data.results.length + ' found' : 'Nothing found that you may open.';
    } catch (error) {
      notify(error.message);
    }
  });
}
