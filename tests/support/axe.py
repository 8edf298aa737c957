"""axe-core in a page under test: zero serious or critical accessibility violations.

axe-core comes from the npm registry (`scripts/ensure_axe.sh`, pinned, into the git-ignored build/axe/); a
missing npm or registry is a failure, not a skip, like a missing chromium.
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO_ROOT = Path(__file__).resolve().parents[2]
BLOCKING_IMPACTS = ("serious", "critical")


@cache
def axe_source() -> str:
    done = subprocess.run([str(REPO_ROOT / "scripts" / "ensure_axe.sh")], capture_output=True, text=True,
                          timeout=300, check=False)
    if done.returncode != 0:
        pytest.fail(f"axe-core is not installed (scripts/ensure_axe.sh): {done.stderr[-2000:]}")
    return Path(done.stdout.strip().splitlines()[-1]).read_text(encoding="utf-8")


def blocking_violations(page: Page, *, include: str | None = None) -> list[dict[str, Any]]:
    """axe's serious and critical violations on the page as it is now (all its rules: WCAG 2.x A and AA and
    best practices), each as {id, impact, help, targets} so a failure names the element. Evaluated over the
    DevTools protocol, which the page's CSP (script-src 'self') does not apply to."""
    page.evaluate(axe_source())
    results = page.evaluate(
        """async (include) => {
            const context = include ? { include: [include] } : document;
            return (await window.axe.run(context)).violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map(n => n.target.join(' '))}));
        }""",
        include,
    )
    return [violation for violation in results if violation["impact"] in BLOCKING_IMPACTS]
