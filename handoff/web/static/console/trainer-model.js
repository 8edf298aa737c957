// The trainer's retrain / ship / roll back panel: starts a background job on the handoff service and polls its
// state, log tail and quality report (GET /api/console/training/jobs). The connection indicator follows the
// polls: a trainer has no console socket, so "connected" means the service answers.

import { api } from './api.js';
import { byId, el, onClick, setText } from './dom.js';

const FAST_MS = 1000;
const SLOW_MS = 5000;
let pollTimer = null;

function showConnection(connected) {
  if (!followsConnection) { return; }
  const indicator = byId('console-connection');
  indicator.setAttribute('data-state', connected ? 'connected' : 'offline');
  indicator.textContent = connected ? 'connected' : 'offline (retrying)';
}

function modelError(text) {
  setText('model-error', text || '');
  byId('model-error').hidden = !text;
}

function jobStatus(job) {
  if (!job) { return 'No retrain, ship or rollback since the service started.'; }
  const state = job.status === 'running' ? 'running…' : job.status;
  const ended = job.finished_at ? ', ended ' + job.finished_at : '';
  return job.kind + ' ' + state + ' (started by ' + job.actor + ' at ' + job.started_at + ended + ')' +
    (job.message ? ': ' + job.message : '');
}

function showLog(job) {
  const log = byId('model-job-log');
  log.hidden = !job;
  if (!job) { return; }
  const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  log.textContent = job.log.join('\n');
  if (atBottom) { log.scrollTop = log.scrollHeight; }
}

function showQuality(quality) {
  const box = byId('model-quality');
  box.hidden = !quality;
  if (!quality) { return; }
  const verdict = quality.passed
    ? 'Quality report of ' + quality.model + ': every gate passes'
    : 'Quality report of ' + quality.model + ': ' + quality.failures.length + ' gate(s) FAILED';
  setText('model-quality-verdict', verdict + ' (evaluated ' + quality.evaluated_at + ')');
  box.setAttribute('data-passed', String(quality.passed));
  const gates = byId('model-quality-gates');
  gates.replaceChildren(...quality.gates.map((line) => {
    const item = el('li', null, 'model-quality-gate', line);
    item.setAttribute('data-pass', String(!/ FAIL;/.test(line)));
    return item;
  }));
  setText('model-quality-summary', quality.summary || 'No summary.md for this evaluation.');
}

function showLive(shipped) {
  const live = shipped.find((entry) => !entry.rolled_back);
  setText('model-live', live
    ? 'The bot serves ' + live.model + ' (' + live.action + ' at ' + live.at + ').'
    : 'Nothing shipped from here yet: the bot serves the model it started with.');
}

function render(state) {
  const running = Boolean(state.job && state.job.status === 'running');
  byId('model-panel').setAttribute('data-job-state', state.job ? state.job.status : 'none');
  setText('model-job-status', jobStatus(state.job));
  showLog(state.job);
  showQuality(state.quality);
  showLive(state.shipped || []);
  byId('model-ship-blocked').hidden = !state.ship_blocked;
  setText('model-ship-blocked', state.ship_blocked ? 'Shipping is blocked. ' + state.ship_blocked : '');
  byId('model-retrain').disabled = running;
  byId('model-rollback').disabled = running;
  byId('model-ship').disabled = running || Boolean(state.ship_blocked);
  return running;
}

async function poll() {
  clearTimeout(pollTimer);
  let running = false;
  try {
    running = render(await api('GET', '/api/console/training/jobs'));
    showConnection(true);
  } catch (error) {
    showConnection(false);
    if (error.status && error.status !== 401) { modelError(error.message); }
  }
  if (!byId('trainer-view').hidden) { pollTimer = setTimeout(poll, running ? FAST_MS : SLOW_MS); }
}

async function start(kind) {
  modelError('');
  try {
    await api('POST', '/api/console/training/jobs', { kind });
  } catch (error) {
    modelError(error.message);
  }
  await poll();
}

let started = false;
let followsConnection = false;

// `indicator`: the trainer has no console socket, so the polls drive the connection indicator; a supervisor's
// indicator stays the socket's.
export function startModelPanel({ indicator = true } = {}) {
  followsConnection = indicator;
  if (started) { poll(); return; }
  started = true;
  onClick('model-retrain', () => start('retrain'));
  onClick('model-ship', () => start('ship'));
  onClick('model-rollback', () => start('rollback'));
  poll();
}
