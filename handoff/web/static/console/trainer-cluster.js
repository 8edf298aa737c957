// One group of badly handled messages on the trainer's screen: its phrasings, transcript excerpts and a
// form to teach them as examples of an intent.

import { button, el } from './dom.js';

const INTENT_NAME = /^[a-z][a-z0-9_]*$/;

function speakerOf(line) {
  if (line.speaker === 'customer') { return 'customer'; }
  return line.speaker === 'agent' ? 'agent' : 'bot';
}

function transcriptExcerpt(example) {
  const details = el('details', 'excerpt', 'training-transcript');
  details.appendChild(el('summary', null, null, 'Conversation ' + example.sender_id +
    (example.timestamp ? ' at ' + example.timestamp : '')));
  const lines = el('ol', 'transcript');
  example.transcript.forEach((line) => {
    const item = el('li', null, 'training-transcript-line');
    item.setAttribute('data-sender', speakerOf(line));
    if (line.flagged) { item.setAttribute('data-flagged', 'true'); }
    item.appendChild(el('span', 'who', null, line.speaker + ':'));
    if (line.button) {
      // A button click: the button's title the customer saw, marked as a click.
      item.setAttribute('data-button', 'true');
      item.appendChild(el('span', 'clicked', null, '[clicked] ' + line.text));
    } else {
      item.appendChild(el('span', null, null, line.text));
    }
    lines.appendChild(item);
  });
  details.appendChild(lines);
  return details;
}

function clusterSummary(cluster) {
  const reasons = cluster.reasons.map((reason) => reason.label + ' ' + reason.count).join(', ');
  let guess = '';
  if (cluster.suggested_intent) {
    guess = cluster.suggested_intent_is_guess
      ? ' · the classifier\'s runner-up (a guess, not chosen for you): ' + cluster.suggested_intent
      : ' · best guess: ' + cluster.suggested_intent;
  }
  return 'Why: ' + reasons + ' · ' + cluster.conversations + ' conversation(s)' + guess;
}

function intentSelect(knownIntents, suggested) {
  const select = el('select', null, 'training-intent-select');
  select.appendChild(el('option', null, null, 'Choose an intent…')).value = '';
  knownIntents.forEach((name) => {
    const option = el('option', null, null, name);
    option.value = name;
    if (name === suggested) { option.selected = true; }
    select.appendChild(option);
  });
  return select;
}

function newIntentAdvice(name, knownIntents, clusterId) {
  if (!INTENT_NAME.test(name)) { return 'Intent names are lower_snake_case, e.g. update_payment_method.'; }
  if (knownIntents.includes(name)) { return name + ' already exists: choose it in the list instead.'; }
  return 'A new intent needs domain stubs (responses, rules), so this page does not create it. ' +
    'In a terminal run: make review && make new-intent NAME=' + name +
    ' FROM_REVIEW=var/review.json CLUSTER=' + clusterId;
}

// A new intent is not created here: the hint says how to create it from a terminal.
function newIntentInput(knownIntents, clusterId, hint) {
  const input = el('input', null, 'training-new-intent');
  input.placeholder = 'or a new intent name';
  input.maxLength = 64;
  input.addEventListener('input', () => {
    const name = input.value.trim();
    hint.hidden = !name;
    if (name) { hint.textContent = newIntentAdvice(name, knownIntents, clusterId); }
  });
  return input;
}

function teachForm(cluster, knownIntents, onTeach, hint) {
  const form = el('div', 'teach');
  // A fallback's or low confidence's runner-up is only shown: the trainer picks the intent themselves.
  const preselected = cluster.suggested_intent_is_guess ? null : cluster.suggested_intent;
  const select = intentSelect(knownIntents, preselected);
  const teachButton = button('Add as examples', 'training-teach-button',
    () => onTeach(cluster, select.value, teachButton));
  form.appendChild(select);
  form.appendChild(teachButton);
  form.appendChild(newIntentInput(knownIntents, cluster.cluster_id, hint));
  return form;
}

export function clusterItem(cluster, knownIntents, onTeach) {
  const item = el('li', 'cluster', 'training-cluster');
  item.setAttribute('data-cluster-id', cluster.cluster_id);
  const head = el('div', 'cluster-head');
  head.appendChild(el('span', 'count', 'training-cluster-count', '×' + cluster.count));
  head.appendChild(el('strong', null, 'training-cluster-text', cluster.representative));
  item.appendChild(head);
  item.appendChild(el('p', 'muted', 'training-cluster-reasons', clusterSummary(cluster)));
  const phrasings = el('ul', 'phrasings', 'training-cluster-phrasings');
  cluster.distinct_texts.forEach((text) => phrasings.appendChild(el('li', null, null, text)));
  item.appendChild(phrasings);
  (cluster.examples || []).forEach((example) => item.appendChild(transcriptExcerpt(example)));
  const hint = el('p', 'muted', 'training-new-intent-hint');
  hint.hidden = true;
  item.appendChild(teachForm(cluster, knownIntents, onTeach, hint));
  item.appendChild(hint);
  return item;
}
