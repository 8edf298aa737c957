// Specialist console entry point (an ES module, no build step): sign in, then the screen for the user's role.
// The screens live in ./console/: specialist (queue, conversation, account), supervisor, trainer.

import { byId } from './console/dom.js';
import { startSession } from './console/login.js';
import { TEAM_LABELS } from './console/queue.js';
import { startSpecialist } from './console/specialist.js';
import { startTrainer } from './console/trainer.js';

function showUser(user) {
  byId('login-view').hidden = true;
  byId('app-view').hidden = false;
  const label = byId('console-user');
  const teams = user.role === 'specialist' && (user.teams || []).length
    ? ' · ' + user.teams.map((team) => TEAM_LABELS[team] || team).join(', ') : '';
  label.textContent = user.display_name + ' (' + user.role + teams + ')';
  label.setAttribute('data-role', user.role);
}

function start(user) {
  showUser(user);
  if (user.role === 'trainer') {
    startTrainer();
  } else {
    startSpecialist(user);
  }
}

startSession(start);
