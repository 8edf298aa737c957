"""The trust report plugin (tests/support/trust_report.py), run by pytest's pytester in a scratch project."""

from __future__ import annotations

import pytest

from tests.support.stack import REPO_ROOT

pytest_plugins = ["pytester"]

INI = """
[pytest]
addopts = -p tests.support.trust_report --strict-markers
asyncio_default_fixture_loop_scope = function
markers =
    trust_case(area, case, expected): a row of the trust report
"""

CASES = """
import pytest

@pytest.mark.trust_case(area="fault", case="Backend | killed", expected="a polite answer")
def test_backend_killed():
    assert True

@pytest.mark.trust_case(area="bad input", case="Empty message", expected="empty_message")
@pytest.mark.trust_case(area="bad input", case="Whitespace message", expected="empty_message")
def test_empty():
    assert 1 + 1 == 3

@pytest.mark.trust_case(area="access", case="Forged token", expected="4401")
def test_forged():
    pytest.skip("no chromium")

def test_not_a_case():
    assert True
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    pytester.mkdir("tests")
    (pytester.path / "tests" / "test_cases.py").write_text(CASES)
    return pytester


def test_a_full_run_writes_the_committed_table_per_area(project: pytest.Pytester) -> None:
    project.runpytest_inprocess("tests").assert_outcomes(passed=2, failed=1, skipped=1)
    report = (project.path / "docs" / "trust-report.md").read_text()
    assert not (project.path / "results").exists()
    assert "4 cases: 1 passed, 2 failed, 1 skipped." in report
    access, bad_input, faults = (report.index(f"## {title}") for title in ("Access", "Bad input", "Faults"))
    assert access < bad_input < faults
    assert ("| Forged token | 4401 | **skipped: no chromium** | `tests/test_cases.py::test_forged` |"
            in report[access:bad_input])
    assert report.index("| Empty message |") < report.index("| Whitespace message |") < faults
    assert "| Whitespace message | empty_message | **failed** | `tests/test_cases.py::test_empty` |" in report
    assert (
        "| Backend \\| killed | a polite answer | passed | `tests/test_cases.py::test_backend_killed` |"
        in report
    )
    assert "test_not_a_case" not in report


@pytest.mark.parametrize("selection", [["-k", "backend"], ["tests/test_cases.py::test_empty"], ["-x"]])
def test_a_partial_run_never_overwrites_the_committed_table(
    project: pytest.Pytester, selection: list[str]
) -> None:
    committed = project.path / "docs" / "trust-report.md"
    committed.parent.mkdir()
    committed.write_text("the committed table\n")
    args = selection if "::" in selection[0] else ["tests", *selection]
    project.runpytest_inprocess(*args)
    assert committed.read_text() == "the committed table\n"
    assert "# Trust report" in (project.path / "results" / "trust-report.md").read_text()


def add_case_file(project: pytest.Pytester, name: str, area: str) -> None:
    (project.path / "tests" / name).write_text(
        f"import pytest\n\n@pytest.mark.trust_case(area='{area}', case='x', expected='y')\ndef test_x():\n   "
        " pass\n"
    )


def test_leaving_out_a_file_with_trust_cases_is_a_partial_run(project: pytest.Pytester) -> None:
    add_case_file(project, "test_other.py", "access")
    (project.path / "tests" / "test_mentions.py").write_text(
        "EXAMPLE = '@pytest.mark.trust_case(area=\"access\")'  # only text: not a trust case\n\n"
        "def test_y():\n    pass\n")
    project.runpytest_inprocess("tests/test_cases.py")
    assert not (project.path / "docs").exists()
    assert (project.path / "results" / "trust-report.md").exists()
    project.runpytest_inprocess(
        "tests/test_cases.py", "tests/test_other.py"
    )  # test_mentions.py is not needed
    assert (
        "| x | y | passed | `tests/test_other.py::test_x` |"
        in (project.path / "docs" / "trust-report.md").read_text()
    )


def test_an_unknown_area_is_a_usage_error(project: pytest.Pytester) -> None:
    add_case_file(project, "test_more.py", "faults")
    result = project.runpytest_inprocess("tests")
    assert result.ret != pytest.ExitCode.OK
    assert "trust_case area must be one of" in result.stderr.str() + result.stdout.str()
    assert not (project.path / "docs").exists()


def test_two_xdist_workers_write_the_table_one_process_writes(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project.path / "tests" / "test_grouped.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.trust_case(area='access', case='Grouped', expected='y')\n"
        "def test_grouped():\n    pass\n\n"
        "@pytest.mark.trust_case(area='access', case='Grouped too', expected='z')\ndef test_grouped_too():\n"
        "    pass\n")
    project.runpytest_inprocess("tests").assert_outcomes(passed=4, failed=1, skipped=1)
    committed = project.path / "docs" / "trust-report.md"
    one_process = committed.read_text()
    committed.unlink()
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))  # the workers import tests.support.trust_report
    result = project.runpytest_subprocess("tests", "-n", "2", "--dist", "loadfile")
    result.assert_outcomes(passed=4, failed=1, skipped=1)
    assert committed.read_text() == one_process
    assert "6 cases: 3 passed, 2 failed, 1 skipped." in one_process
    assert "| Grouped too | z | passed | `tests/test_grouped.py::test_grouped_too` |" in one_process
