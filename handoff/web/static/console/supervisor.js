// The supervisor's reports for a date range: figures with how each is computed, charts, tables (each one
// downloadable as CSV) and the readable audit log (audit-view.js).

import { api } from './api.js';
import { showAudit } from './audit-view.js';
import { byId, el, notify, onClick } from './dom.js';
import { humanize, minutes, money, percent } from './format.js';
import { hbars, table, vbars } from './report-charts.js';
import { bindSystemCredits, loadLimits, loadSystemCredits } from './system-credits.js';

const DAY_MS = 24 * 60 * 60 * 1000;

function isoDate(date) {
  return date.getFullYear() + '-' + String(date.getMonth() + 1).padStart(2, '0') + '-'
    + String(date.getDate()).padStart(2, '0');
}

const CREDIT_REASONS = {
  dispute: 'Dispute accepted', account_check: 'Account check fix', late_fee_waiver: 'Late-fee waiver',
  goodwill: 'Goodwill', billing_error: 'Billing error correction', service_issue: 'Service issue',
  other: 'Other',
};
const DISPUTE_OUTCOMES = { accepted: 'Accepted', rejected: 'Rejected', open: 'Still open',
  under_review: 'Under review' };
const PAYMENT_SOURCES = { bot: 'With the bot', specialist: 'By a specialist', secure_page: 'Secure payment page' };

const label = (names, key) => names[key] || String(key).replace(/_/g, ' ');
const both = (median, p90) => minutes(median) + ' · p90 ' + minutes(p90);

// The columns a team's and a specialist's rows share.
const PEOPLE_COLUMNS = [
  { key: 'resolution_rate', title: 'Resolution', format: percent },
  { key: 'wait_median_seconds', title: 'Customer wait', format: (v, row) => both(v, row.wait_p90_seconds) },
  { key: 'handling_median_seconds', title: 'Handling', format: (v, row) => both(v, row.handling_p90_seconds) },
  { key: 'csat_average', title: 'CSAT', format: (v, row) => (v === null ? '—' : v + ' (' + row.csat_responses + ')') },
];

// A specialist's credits issued and payments taken in chat (one total per currency; null: the billing system
// did not answer, which the page says above the billing tables).
const count = (totals) => (totals ? String(totals.reduce((sum, t) => sum + t.count, 0)) : '—');
const amounts = (totals) => (totals && totals.length
  ? totals.map((t) => money(t.amount, t.currency)).join(' + ') : '—');
const MONEY_COLUMNS = [
  { key: 'credits_issued', title: 'Credits issued', format: count },
  { key: 'credits_issued', title: 'Credited', format: amounts },
  { key: 'payments_taken', title: 'Payments taken', format: count },
  { key: 'payments_taken', title: 'Paid in chat', format: amounts },
];

function figureCards(overall) {
  const cards = [
    ['conversations', 'Conversations', String(overall.conversations)],
    ['containment', 'Containment (not escalated)', percent(overall.containment_rate),
      overall.contained + ' of ' + overall.conversations],
    ['resolution', 'Resolution (by outcome)', percent(overall.resolution_rate),
      overall.resolved + ' resolved'],
    ['bot-resolution', 'Resolved by the bot alone', percent(overall.bot_resolution_rate),
      overall.bot_resolved + ' chats'],
    ['escalated', 'Escalated', String(overall.escalated)],
    ['abandoned', 'Abandoned', String(overall.abandoned_in_queue + overall.abandoned_mid_flow),
      overall.abandoned_in_queue + ' in queue · ' + overall.abandoned_mid_flow + ' mid-question'],
    ['repeat', 'Repeat contacts (24 h)', String(overall.repeat_contacts)],
    ['wait', 'Wait (median)', minutes(overall.wait_median_seconds), 'p90 ' + minutes(overall.wait_p90_seconds)],
    ['handling', 'Handling (median)', minutes(overall.handling_median_seconds),
      'p90 ' + minutes(overall.handling_p90_seconds)],
    ['csat', 'CSAT', overall.csat_average === null ? '—' : overall.csat_average + ' / 5',
      overall.csat_responses + ' ratings'],
  ];
  return cards.map(([key, name, value, note]) => {
    const card = el('div', 'figure', 'figure-' + key);
    card.appendChild(el('span', 'label', null, name));
    card.appendChild(el('span', 'value', 'figure-' + key + '-value', value));
    if (note) { card.appendChild(el('span', 'note', null, note)); }
    return card;
  });
}

const DEFINITION_NAMES = { bot_resolution: 'Resolved by the bot alone', csat: 'CSAT', teams: 'Per team',
  billing: 'Credits, disputes, payments' };

function definitions(texts) {
  const list = byId('report-definitions');
  list.textContent = '';
  Object.entries(texts).forEach(([name, text]) => {
    list.appendChild(el('dt', null, null, DEFINITION_NAMES[name] || humanize(name)));
    list.appendChild(el('dd', null, 'definition-' + name, text));
  });
}

// A section's content: its chart (optional), its table and the CSV link for the same range.
function fill(name, nodes, range) {
  const link = el('a', 'csv-link', 'csv-' + name, 'Download CSV');
  link.href = '/api/console/reports/export?table=' + encodeURIComponent(name) + '&start=' + range.start
    + '&end=' + range.end;
  link.setAttribute('download', '');
  link.setAttribute('aria-label', 'Download CSV of ' + name.replace('_', ' '));
  byId('table-' + name).replaceChildren(...nodes, link);
}

function showBilling(report, range) {
  const billing = report.billing;
  byId('billing-error').hidden = !report.billing_error;
  byId('billing-error').textContent = report.billing_error
    ? 'Credits, disputes and payments are not available: ' + report.billing_error : '';
  const credits = billing ? billing.credits.by_reason : [];
  fill('credits', [
    hbars(credits.map((row) => ({ label: label(CREDIT_REASONS, row.reason), value: Number(row.amount),
      text: money(row.amount, row.currency) + ' (' + row.count + ')' })), 'chart-credits'),
    table([{ key: 'reason', title: 'Reason', format: (v) => label(CREDIT_REASONS, v) },
      { key: 'count', title: 'Credits' },
      { key: 'amount', title: 'Amount', format: (v, row) => money(v, row.currency) }], credits, 'credits'),
  ], range);
  const disputes = billing ? billing.disputes.by_outcome : [];
  fill('disputes', [
    hbars(disputes.map((row) => ({ label: label(DISPUTE_OUTCOMES, row.outcome), value: row.count })),
      'chart-disputes'),
    table([{ key: 'outcome', title: 'Outcome', format: (v) => label(DISPUTE_OUTCOMES, v) },
      { key: 'count', title: 'Disputes' },
      { key: 'amount', title: 'Disputed', format: (v, row) => money(v, row.currency) }], disputes, 'disputes'),
  ], range);
  const payments = billing ? billing.payments.by_source : [];
  fill('payments', [
    table([{ key: 'source', title: 'Taken', format: (v) => label(PAYMENT_SOURCES, v) },
      { key: 'status', title: 'Status' }, { key: 'count', title: 'Payments' },
      { key: 'amount', title: 'Amount', format: (v, row) => money(v, row.currency) }], payments, 'payments'),
  ], range);
}

// The audit log downloads for the report's dates (whole UTC days): this service's, and the billing system's
// (system credits and their reversals, payments, disputes).
function auditLinks(range) {
  const after = new Date(range.end + 'T00:00:00Z');
  after.setUTCDate(after.getUTCDate() + 1);
  const window = '?start=' + range.start + 'T00:00:00Z&end=' + after.toISOString().slice(0, 10) + 'T00:00:00Z';
  byId('audit-export-handoff').href = '/api/console/audit/export' + window + '&source=handoff';
  byId('audit-export-billing').href = '/api/console/audit/export' + window + '&source=billing';
}

function showReport(report) {
  const range = { start: report.start, end: report.end };
  auditLinks(range);
  byId('report-range').textContent = (report.start === report.end ? report.start
    : report.start + ' to ' + report.end) + ' (' + report.timezone + ')';
  byId('report-figures').replaceChildren(...figureCards(report.overall));
  definitions(report.definitions);
  vbars(byId('chart-by-day'), report.by_day.map((day) => day.conversations),
    report.by_day.map((day) => day.date.slice(5)), 'Conversations by day');
  fill('by_day', [table([{ key: 'date', title: 'Date' }, { key: 'conversations', title: 'Conversations' },
    { key: 'escalated', title: 'Escalated' }, { key: 'resolved', title: 'Resolved' }],
  report.by_day.filter((day) => day.conversations), 'by-day')], range);
  fill('escalations', [
    hbars(report.escalations_by_reason.map((row) => ({ label: row.label, value: row.count })),
      'chart-escalations'),
    table([{ key: 'label', title: 'Reason' }, { key: 'count', title: 'Escalations' }],
      report.escalations_by_reason, 'escalations')], range);
  const scores = ['1', '2', '3', '4', '5'];
  vbars(byId('chart-csat'), scores.map((score) => report.csat_distribution[score]), scores, 'CSAT scores');
  fill('teams', [
    hbars(report.teams.map((row) => ({ label: row.label, value: row.conversations })), 'chart-teams'),
    table([{ key: 'label', title: 'Team' }, { key: 'conversations', title: 'Escalated chats' },
      ...PEOPLE_COLUMNS, { key: 'abandoned_in_queue', title: 'Left the queue' }], report.teams, 'teams')], range);
  fill('specialists', [table([
    { key: 'display_name', title: 'Specialist' }, { key: 'conversations', title: 'Chats handled' },
    ...PEOPLE_COLUMNS, ...MONEY_COLUMNS], report.specialists, 'specialists',
  'No specialist handled a chat in this range.')], range);
  fill('overall', [], range);
  showBilling(report, range);
}

async function loadReport() {
  const start = byId('report-start').value;
  const end = byId('report-end').value;
  try {
    const query = '?start=' + encodeURIComponent(start) + '&end=' + encodeURIComponent(end);
    showReport(await api('GET', '/api/console/reports' + query));
  } catch (error) {
    notify(error.message);
  }
}

async function loadAudit() {
  try {
    showAudit(await api('GET', '/api/console/audit?limit=200'));
  } catch (error) { /* the figures above still show */ }
}

function setRange(days) {
  const today = new Date();
  byId('report-end').value = isoDate(today);
  byId('report-start').value = isoDate(new Date(today.getTime() - (days - 1) * DAY_MS));
}

function refresh() {
  loadReport();
  loadAudit();
  loadSystemCredits({ start: byId('report-start').value, end: byId('report-end').value });
  loadLimits();
}

export function bindSupervisor() {
  byId('nav-supervisor').hidden = false;
  setRange(1);
  onClick('nav-supervisor', () => {
    byId('work-view').hidden = true;
    byId('supervisor-view').hidden = false;
    refresh();
  });
  byId('report-form').addEventListener('submit', (event) => { event.preventDefault(); refresh(); });
  bindSystemCredits();
  byId('report-form').querySelectorAll('button[data-days]').forEach((quick) => {
    quick.addEventListener('click', () => { setRange(Number(quick.getAttribute('data-days'))); refresh(); });
  });
}
