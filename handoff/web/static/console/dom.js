// A tiny DOM helper for the console: nodes are built with textContent only, never from markup.

export const byId = (id) => document.getElementById(id);

export function el(tag, className, testId, text) {
  const node = document.createElement(tag);
  if (className) { node.className = className; }
  if (testId) { node.setAttribute('data-testid', testId); }
  if (text !== undefined && text !== null) { node.textContent = String(text); }
  return node;
}

export function setText(id, text) {
  byId(id).textContent = text;
}

export function button(text, testId, onClick) {
  const node = el('button', null, testId, text);
  node.type = 'button';
  node.addEventListener('click', onClick);
  return node;
}

export function onClick(id, handler) {
  byId(id).addEventListener('click', handler);
}

// Shows `values` as a bar chart inside `container`, one labelled bar per value.
export function bars(container, values, labels) {
  container.textContent = '';
  const max = Math.max(...values, 1);
  values.forEach((value, index) => {
    const bar = el('div', 'bar', 'chart-bar');
    bar.setAttribute('data-value', String(value));
    bar.title = labels[index] + ': ' + value;
    const fill = el('div', 'fill');
    fill.style.height = Math.round((value / max) * 100) + '%';  // CSSOM, allowed by the CSP
    bar.appendChild(el('span', null, null, value ? String(value) : ''));
    bar.appendChild(fill);
    bar.appendChild(el('span', null, null, labels[index]));
    container.appendChild(bar);
  });
}

let noticeTimer = null;

// The banner under the header: errors and confirmations, gone after 8 seconds.
export function notify(text) {
  const notice = byId('console-notice');
  notice.textContent = text;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { notice.hidden = true; }, 8000);
}
