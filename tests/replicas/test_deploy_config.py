"""The production configuration in deploy/ is complete and refuses its own placeholders.

Each role is started exactly as its Procfile says, with the committed env files: every service
must refuse to start while a secret is still a CHANGE_ME placeholder.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.support.replicas import DEPLOY, haproxy_binary, procfile_command, read_env_file, role_env
from tests.support.stack import REPO_ROOT, free_port

ROLES = ["backend", "actions", "rasa", "handoff"]


def env_names(path: Path) -> set[str]:
    """The ${VAR}s a file uses (comments left out)."""
    lines = [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
    return set(re.findall(r"\$\{(\w+)", "\n".join(lines)))


@pytest.mark.parametrize("role", ROLES)
def test_each_role_refuses_to_start_with_the_placeholders(role: str) -> None:
    env = {"PATH": "/usr/bin:/bin", **role_env(role), "PORT": str(free_port()), "BIND_HOST": "127.0.0.1"}
    assert env["APP_ENV"] == "production"
    assert any("CHANGE_ME" in value for value in env.values())
    try:
        result = subprocess.run(["bash", "-c", procfile_command(role)], cwd=REPO_ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as timeout:  # it started: the placeholders were accepted
        pytest.fail(f"{role} started with placeholder secrets:\n{timeout.stdout}\n{timeout.stderr}")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert re.search(r"placeholder|must be set|development default", output), output


def test_every_variable_of_the_production_endpoints_is_in_the_rasa_env_files() -> None:
    needed = env_names(REPO_ROOT / "bot" / "endpoints.production.yml")
    assert {"RASA_TRACKER_PG_HOST", "RASA_LOCK_REDIS_HOST", "ACTION_ENDPOINT_URL"} <= needed
    assert needed <= set(role_env("rasa")), needed - set(role_env("rasa"))


def test_the_balancer_configuration_is_valid_with_its_env_file() -> None:
    config = DEPLOY / "haproxy" / "haproxy.cfg"
    lb_env = read_env_file(DEPLOY / "env" / "lb.env")
    assert env_names(config) <= set(lb_env), env_names(config) - set(lb_env)
    # Host names of the production file resolve nowhere here; the check needs addresses.
    addresses = {name: (value if name.startswith("LB_") else f"127.0.0.1:{10000 + n}")
                 for n, (name, value) in enumerate(lb_env.items())}
    result = subprocess.run([haproxy_binary(), "-c", "-f", str(config)],
                            env={"PATH": "/usr/bin:/bin", **addresses},
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Configuration file is valid" in result.stdout + result.stderr
