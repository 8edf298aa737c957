// The trainer's screen: review the messages the bot handled badly, grouped, and teach them as examples.

import { api } from './api.js';
import { byId, el, onClick, setText } from './dom.js';
import { clusterItem } from './trainer-cluster.js';
import { startModelPanel } from './trainer-model.js';

let knownIntents = [];

function trainingError(text) {
  setText('training-error', text || '');
  byId('training-error').hidden = !text;
}

function reviewQuery() {
  const threshold = parseFloat(byId('training-threshold').value);
  return Number.isNaN(threshold) ? '' : '?threshold=' + encodeURIComponent(threshold);
}

function reviewSummary(data, clusters) {
  if (!clusters.length) {
    return 'Nothing to review: no badly handled messages below confidence ' + data.threshold + '.';
  }
  return data.messages + ' messages in ' + clusters.length + ' groups (confidence threshold ' +
    data.threshold + ').';
}

async function loadReview() {
  trainingError('');
  setText('training-summary', 'Loading…');
  try {
    const data = await api('GET', '/api/console/training/review' + reviewQuery());
    const clusters = data.clusters || [];
    setText('training-summary', reviewSummary(data, clusters));
    const list = byId('training-clusters');
    list.replaceChildren(...clusters.map((cluster) => clusterItem(cluster, knownIntents, teach)));
  } catch (error) {
    setText('training-summary', '');
    trainingError(error.message);
  }
}

function teachHeadline(result) {
  return result.added.length
    ? 'Added ' + result.added.length + ' example(s) to ' + result.intent + ' in ' + result.file + ':'
    : 'Nothing added to ' + result.intent + ': these examples are already there.';
}

function showTeachResult(result) {
  const box = byId('training-result');
  box.replaceChildren();
  box.appendChild(el('strong', null, null, teachHeadline(result)));
  const added = el('ul', null, 'training-result-added');
  result.added.forEach((text) => added.appendChild(el('li', null, null, text)));
  box.appendChild(added);
  if (result.skipped.length) {
    const skipped = 'Already examples of ' + result.intent + ': ' + result.skipped.join(' · ');
    box.appendChild(el('p', 'muted', null, skipped));
  }
  box.appendChild(el('p', null, 'training-next-step', 'Next: ' + result.next_step + '.'));
  box.hidden = false;
}

async function teach(cluster, intent, teachButton) {
  trainingError('');
  if (!intent) { trainingError('Choose the intent these messages mean first.'); return; }
  teachButton.disabled = true;
  const body = { intent, examples: cluster.distinct_texts, cluster_id: cluster.cluster_id };
  try {
    showTeachResult(await api('POST', '/api/console/training/examples', body));
  } catch (error) {
    trainingError(error.message);
  } finally {
    teachButton.disabled = false;
  }
}

async function loadIntents() {
  try {
    knownIntents = (await api('GET', '/api/console/training/intents')).intents || [];
  } catch (error) {
    trainingError(error.message);
  }
}

export async function startTrainer() {
  byId('trainer-view').hidden = false;
  byId('work-view').hidden = true;
  byId('nav-queue').hidden = true;
  onClick('training-refresh', loadReview);
  startModelPanel();
  await loadIntents();
  await loadReview();
}
