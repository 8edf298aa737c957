// The account panel's documents (issue 19): the customer's invoices, monthly statements and credit memos,
// each with a button that asks for a short-lived signed download link (audited) and shows it to open.
// account.js calls loadDocuments(conversationId) after the account; this module owns its own section.

import { api, conversationPath } from './api.js';
import { byId, button, el } from './dom.js';

const LIST_ID = 'account-documents';

function section() {
  let list = byId(LIST_ID);
  if (!list) {
    const panel = byId('account-panel');
    panel.appendChild(el('h4', null, null, 'Documents'));
    list = el('ul', 'documents', LIST_ID);
    list.id = LIST_ID;
    panel.appendChild(list);
  }
  return list;
}

function expiryText(isoTime) {
  const when = new Date(isoTime);
  return Number.isNaN(when.getTime()) ? isoTime
    : when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function documentItem(conversationId, documentRef) {
  const item = el('li', 'document', 'account-document', documentRef.title + ' · ' + documentRef.date + ' ');
  item.setAttribute('data-kind', documentRef.kind);
  item.setAttribute('data-document-id', documentRef.document_id);
  const status = el('span', 'document-link', 'account-document-link');
  const ask = button('PDF link', 'account-document-button', async () => {
    ask.disabled = true;
    status.textContent = '';
    try {
      const answer = await api('POST', conversationPath(conversationId, '/documents/links'),
        { kind: documentRef.kind, document_id: documentRef.document_id });
      const link = el('a', null, 'account-document-open', 'Open ' + answer.link.filename);
      link.href = answer.link.url;
      link.target = '_blank';
      link.rel = 'noopener noreferrer';
      status.replaceChildren(link, el('span', null, null,
        ' (expires ' + expiryText(answer.link.expires_at) + ')'));
    } catch (error) {
      status.replaceChildren(el('span', 'error', 'account-document-error', error.message));
    } finally {
      ask.disabled = false;
    }
  });
  item.append(ask, ' ', status);
  return item;
}

export async function loadDocuments(conversationId) {
  const list = section();
  list.replaceChildren();
  try {
    const answer = await api('GET', conversationPath(conversationId, '/documents'));
    list.replaceChildren(...(answer.documents.length
      ? answer.documents.map((documentRef) => documentItem(conversationId, documentRef))
      : [el('li', null, 'account-documents-none', 'None')]));
  } catch (error) {
    list.replaceChildren(el('li', 'error', 'account-documents-error', error.message));
  }
}
