"""The trust report (issue 8): a table of the attacks, bad inputs and faults tried and their results,
written by the test suite itself from the tests marked

    @pytest.mark.trust_case(area="fault", case="Backend killed mid-conversation", expected="...")

`area` is one of AREAS. At the end of a session the report goes to docs/trust-report.md only when the session
collected and ran every trust case (a full run, e.g. `make test`); any partial run (a file, `-k`, `-m`, a
node id, `--lf`, `-x` stopping early) writes results/trust-report.md instead, so it never overwrites the
committed table with a subset. Registered from tests/conftest.py.
"""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest

# Relative to the rootdir (the repository, where pyproject.toml is).
FULL_REPORT = Path("docs") / "trust-report.md"
PARTIAL_REPORT = Path("results") / "trust-report.md"
AREAS = {"access": "Access", "bad input": "Bad input", "fault": "Faults"}


@dataclass
class Case:
    nodeid: str
    area: str
    case: str
    expected: str
    result: str | None = None  # passed / failed / skipped (+ reason)
    # (file's path parts, line): rows keep the files' order whatever order the tests ran in (xdist)
    position: tuple[tuple[str, ...], int] = ((), 0)


def cases_of(item: pytest.Item) -> list[Case]:
    """One row per trust_case marker on the test (a test may prove more than one case)."""
    cases = []
    for marker in item.iter_markers("trust_case"):
        fields = dict(marker.kwargs)
        for name, value in zip(("area", "case", "expected"), marker.args, strict=False):
            fields.setdefault(name, value)
        missing = [name for name in ("area", "case", "expected") if not fields.get(name)]
        if missing:
            raise pytest.UsageError(f"{item.nodeid}: trust_case needs {', '.join(missing)}")
        if fields["area"] not in AREAS:
            raise pytest.UsageError(f"{item.nodeid}: trust_case area must be one of {sorted(AREAS)}, "
                                    f"not {fields['area']!r}")
        path, line, _ = item.location
        cases.append(Case(nodeid=item.nodeid, area=fields["area"], case=str(fields["case"]),
                          expected=str(fields["expected"]), position=(Path(path).parts, line or 0)))
    return cases[::-1]  # iter_markers yields the closest (bottom decorator) first: keep source order


def uses_the_marker(source: str) -> bool:
    """The code (not a string or comment in it) names `pytest.mark.trust_case`: a decorator, pytestmark or
    helper."""
    if "trust_case" not in source:
        return False
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return True  # collection reports the file as an error, which makes the run partial anyway
    return any(
        isinstance(node, ast.Attribute)
        and node.attr == "trust_case"
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "mark"
        for node in ast.walk(tree)
    )


def files_with_trust_cases(tests_root: Path) -> set[Path]:
    return {path.resolve() for path in tests_root.rglob("test_*.py")
            if uses_the_marker(path.read_text(encoding="utf-8", errors="replace"))}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render(cases: list[Case]) -> str:
    counts = {outcome: sum(1 for c in cases if (c.result or "not run").startswith(outcome))
              for outcome in ("passed", "failed", "skipped", "not run")}
    summary = ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n)
    lines = [
        "# Trust report",
        "",
        "Produced by the test suite (`tests/support/trust_report.py`) from the tests marked "
        "`@pytest.mark.trust_case`; do not edit by hand. A full run (`make test`) rewrites this file; "
        "partial runs write `results/trust-report.md`. The threat model is in "
        "[`SECURITY.md`](../SECURITY.md).",
        "",
        f"{len(cases)} cases: {summary}.",
    ]
    for area, title in AREAS.items():
        rows = [c for c in cases if c.area == area]
        if not rows:
            continue
        lines += ["", f"## {title}", "", "| case | expected | result | test |", "|---|---|---|---|"]
        for row in rows:
            result = row.result or "not run"
            shown = result if result == "passed" else f"**{result}**"
            lines.append(f"| {_cell(row.case)} | {_cell(row.expected)} | {_cell(shown)} | `{row.nodeid}` |")
    return "\n".join(lines) + "\n"


def _with_result(current: str | None, report: pytest.TestReport) -> str | None:
    """A case's result after one more report of its test (setup, call, teardown): a failure anywhere wins."""
    if report.failed:
        return "failed" if report.when == "call" else f"failed (in {report.when})"
    if report.skipped and current is None:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        reason = reason.removeprefix("Skipped: ")
        return f"skipped: {reason}" if reason else "skipped"
    if report.passed and report.when == "call" and current is None:
        return "passed"
    return current


class TrustReport:
    """Under pytest-xdist the workers collect and the controller receives the reports: each worker sends
    what it collected (config.workeroutput); the controller, which alone writes the report, joins the two."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.root = Path(config.rootpath)
        self.cases: dict[str, list[Case]] = {}  # by node id
        self.results: dict[str, str | None] = {}
        self.deselected = 0
        self.collected_files: set[Path] = set()
        self.collection_errors = 0

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        # trylast: after -k/-m/--lf/--deselect have removed what they remove.
        for item in items:
            self.collected_files.add(Path(str(item.path)).resolve())
            cases = cases_of(item)
            if cases:
                self.cases[item.nodeid] = cases

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += sum(1 for item in items if item.get_closest_marker("trust_case") is not None)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors += 1

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.results[report.nodeid] = _with_result(self.results.get(report.nodeid), report)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:  # controller: a worker finished (pytest-xdist's hook)
        collected = getattr(node, "workeroutput", {}).get("trust_report")
        if not collected:
            return
        for nodeid, cases in collected["cases"].items():
            self.cases[nodeid] = []
            for case in cases:
                parts, line = case["position"]  # JSON made the tuple a list
                self.cases[nodeid].append(Case(**{**case, "position": (tuple(parts), line)}))
        self.collected_files |= {Path(path) for path in collected["collected_files"]}
        self.deselected = max(self.deselected, collected["deselected"])
        self.collection_errors = max(self.collection_errors, collected["collection_errors"])

    def is_complete(self) -> bool:
        if not self.cases or self.deselected or self.collection_errors:
            return False
        if any("::" in arg for arg in self.config.args):
            return False  # node ids: part of a file
        expected_files = files_with_trust_cases(self.root / "tests")
        if not expected_files <= self.collected_files:
            return False
        return all(case.result is not None for case in self.all_cases())

    def all_cases(self) -> list[Case]:
        for nodeid, cases in self.cases.items():
            for case in cases:
                case.result = self.results.get(nodeid)
        cases = [case for cases in self.cases.values() for case in cases]
        return sorted(cases, key=lambda case: case.position)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: the controller writes the report
            workeroutput["trust_report"] = {
                "cases": {nodeid: [dataclasses.asdict(case) for case in cases]
                          for nodeid, cases in self.cases.items()},
                "collected_files": sorted(str(path) for path in self.collected_files),
                "deselected": self.deselected,
                "collection_errors": self.collection_errors,
            }
            return
        if not self.cases:  # nothing to say
            return
        target = self.root / (FULL_REPORT if self.is_complete() else PARTIAL_REPORT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(self.all_cases()), encoding="utf-8")
        self.target = target

    def pytest_terminal_summary(self, terminalreporter) -> None:
        target = getattr(self, "target", None)
        if target is not None:
            terminalreporter.write_line(
                f"trust report ({len(self.all_cases())} cases): {target.relative_to(self.root)}")


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("trust-report"):
        config.pluginmanager.register(TrustReport(config), "trust-report")
