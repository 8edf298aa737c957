// The supervisor's "Today" screen: the day's figures, two charts and the audit log.

import { api } from './api.js';
import { bars, byId, el, notify, onClick, setText } from './dom.js';
import { minutes, percent } from './format.js';

function csatText(stats) {
  return stats.csat_average === null ? '—' : stats.csat_average + ' / 5 (' + stats.csat_responses + ')';
}

function showStats(stats) {
  setText('stats-date', stats.date + ' (' + stats.timezone + ')');
  setText('stats-chats', String(stats.chats));
  setText('stats-bot-only-rate', percent(stats.bot_only_resolution_rate));
  setText('stats-escalation-rate', percent(stats.escalation_rate));
  setText('stats-median-wait', minutes(stats.median_wait_seconds));
  setText('stats-median-handling', minutes(stats.median_handling_seconds));
  setText('stats-csat', csatText(stats));
  bars(byId('chart-by-hour'), stats.chats_by_hour, stats.chats_by_hour.map((_, hour) => String(hour)));
  const scores = ['1', '2', '3', '4', '5'];
  bars(byId('chart-csat'), scores.map((score) => stats.csat_distribution[score]), scores);
}

function auditLine(entry) {
  return entry.at + ' · ' + entry.actor + ' · ' + entry.action + (entry.target ? ' · ' + entry.target : '');
}

async function loadStats() {
  try {
    showStats(await api('GET', '/api/console/stats'));
  } catch (error) {
    notify(error.message);
  }
}

async function loadAudit() {
  try {
    const data = await api('GET', '/api/console/audit?limit=50');
    const items = data.entries.map((entry) => el('li', null, 'audit-entry', auditLine(entry)));
    byId('audit-list').replaceChildren(...items);
  } catch (error) { /* the figures above still show */ }
}

function refresh() {
  loadStats();
  loadAudit();
}

export function bindSupervisor() {
  byId('nav-supervisor').hidden = false;
  onClick('nav-supervisor', () => {
    byId('work-view').hidden = true;
    byId('supervisor-view').hidden = false;
    refresh();
  });
  onClick('stats-refresh', refresh);
}
