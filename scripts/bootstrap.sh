#!/usr/bin/env bash
# Create and install both virtual environments from the lock files; a no-op when they are current.
#   .venv/      Python 3.11: actions, backend, handoff, tests       (requirements/app.lock)
#   .venv-bot/  Python 3.10: Rasa 3.6.21 server, training, rasa test (requirements/bot.lock)
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {  # find_python 3.10 -> a python3.10 executable, pyenv-aware
  local version="$1" candidate
  for candidate in "python$version" "$(command -v pyenv >/dev/null && echo "$(pyenv root)/versions/$version"*/bin/python"$version")" \
                   /root/.pyenv/versions/"$version"*/bin/python"$version" /usr/bin/python"$version"; do
    for path in $candidate; do
      if [ -x "$(command -v "$path" 2>/dev/null)" ] && "$path" -c 'import sys' >/dev/null 2>&1; then
        command -v "$path"; return 0
      fi
    done
  done
  echo "Python $version not found: install it (pyenv install $version) and retry" >&2
  return 1
}

ensure_venv() {  # ensure_venv DIR PYTHON_VERSION LOCKFILE
  local dir="$1" version="$2" lock="$3" stamp want
  want=$(sha256sum "$lock" | cut -c1-16)
  stamp="$dir/.installed-$want"
  [ -f "$stamp" ] && return 0
  if [ ! -x "$dir/bin/python" ]; then
    echo "==> creating $dir (Python $version)"
    "$(find_python "$version")" -m venv "$dir"
  fi
  echo "==> installing $lock into $dir (first time: a few minutes)"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.0"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$lock"
  rm -f "$dir"/.installed-*
  touch "$stamp"
}

# Side by side: pip uses about one core, and the two environments share nothing.
ensure_venv .venv 3.11 requirements/app.lock &
app=$!
bot_status=0
ensure_venv .venv-bot 3.10 requirements/bot.lock || bot_status=$?
app_status=0
wait "$app" || app_status=$?
if [ "$app_status" -ne 0 ] || [ "$bot_status" -ne 0 ]; then
  echo "installing the virtual environments failed (.venv: exit $app_status, .venv-bot: exit $bot_status)" >&2
  exit 1
fi
