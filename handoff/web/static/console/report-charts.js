// Charts and tables of the supervisor's report: plain DOM (no library, no CDN), readable at a glance and by
// a screen reader (each bar is a list item whose text says its label and value; the tables carry the numbers).

import { el } from './dom.js';

// A horizontal bar per row: [{label, value, text}], the longest bar is the largest value.
export function hbars(rows, testId) {
  const list = el('ul', 'hbars', testId);
  const max = Math.max(...rows.map((row) => row.value), 1);
  rows.forEach((row) => {
    const item = el('li', 'hbar', 'chart-bar');
    item.setAttribute('data-value', String(row.value));
    item.appendChild(el('span', 'hbar-label', null, row.label));
    const track = el('span', 'hbar-track');
    const fill = el('span', 'hbar-fill');
    fill.style.width = Math.max(1, Math.round((row.value / max) * 100)) + '%';  // CSSOM, allowed by the CSP
    track.appendChild(fill);
    item.appendChild(track);
    item.appendChild(el('span', 'hbar-value', null, row.text === undefined ? String(row.value) : row.text));
    list.appendChild(item);
  });
  return list;
}

// Vertical bars (a value per day or score) with the label under each; `title` is the chart's accessible name.
export function vbars(container, values, labels, title) {
  container.textContent = '';
  container.setAttribute('role', 'list');
  container.setAttribute('aria-label', title);
  const max = Math.max(...values, 1);
  values.forEach((value, index) => {
    const bar = el('div', 'bar', 'chart-bar');
    bar.setAttribute('role', 'listitem');
    bar.setAttribute('data-value', String(value));
    bar.setAttribute('aria-label', labels[index] + ': ' + value);
    bar.title = labels[index] + ': ' + value;
    const fill = el('div', 'fill');
    fill.style.height = Math.round((value / max) * 100) + '%';
    bar.appendChild(el('span', 'bar-value', null, value ? String(value) : ''));
    bar.appendChild(fill);
    bar.appendChild(el('span', 'bar-label', null, labels[index]));
    container.appendChild(bar);
  });
}

// A table with a header row; `columns` = [{key, title, format?}], `rows` = objects.
export function table(columns, rows, testId, emptyText) {
  if (!rows.length) { return el('p', 'muted', testId + '-empty', emptyText || 'Nothing in this range.'); }
  const node = el('table', 'report-table', testId);
  const head = el('tr');
  columns.forEach((column) => {
    const th = el('th', null, null, column.title);
    th.scope = 'col';
    head.appendChild(th);
  });
  node.appendChild(el('thead')).appendChild(head);
  const body = el('tbody');
  rows.forEach((row) => {
    const tr = el('tr', null, testId + '-row');
    columns.forEach((column) => {
      const value = row[column.key];
      tr.appendChild(el('td', null, null, column.format ? column.format(value, row) : value));
    });
    body.appendChild(tr);
  });
  node.appendChild(body);
  return node;
}
