"""The account check's detectors on generated accounts (hypothesis): every planted error is found, a clean
account is flagged for nothing (bill shock only when its own arithmetic says so), ids are stable."""

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.account_check import detectors as d
from backend.account_check import synthetic as s

seeds = st.integers(min_value=0, max_value=2**32 - 1)
plants = st.frozensets(st.sampled_from(s.PLANTABLE))


def found(data: d.AccountData) -> set[tuple[str, object]]:
    return {s.finding_key(finding) for finding in d.run_detectors(data)}


@settings(max_examples=400, deadline=None)
@given(seed=seeds, customer_id=st.integers(min_value=1, max_value=10**6), plant=plants)
def test_every_planted_error_is_found_and_nothing_else(
    seed: int, customer_id: int, plant: frozenset[str]
) -> None:
    data, truth = s.generate_account(random.Random(seed), customer_id=customer_id, plant=plant)
    assert found(data) == truth


@settings(max_examples=300, deadline=None)
@given(seed=seeds)
def test_a_clean_account_has_no_error_findings(seed: int) -> None:
    data, truth = s.generate_account(random.Random(seed), customer_id=7, plant=frozenset())
    assert {kind for kind, _ in truth} <= {d.BILL_SHOCK}
    assert found(data) == truth


@settings(max_examples=200, deadline=None)
@given(seed=seeds, plant=plants)
def test_ids_are_stable_unique_and_fixes_are_positive(seed: int, plant: frozenset[str]) -> None:
    data, _ = s.generate_account(random.Random(seed), customer_id=42, plant=plant)
    first, second = d.run_detectors(data), d.run_detectors(data)
    assert [f.id for f in first] == [f.id for f in second]
    assert len({f.id for f in first}) == len(first)
    for finding in first:
        assert finding.amount > 0 or finding.kind == d.BILL_SHOCK
        assert 0 < finding.confidence <= 1 and finding.summary and finding.evidence_lines


@settings(max_examples=200, deadline=None)
@given(seed=seeds, plant=plants)
def test_a_credited_line_is_no_longer_a_finding(seed: int, plant: frozenset[str]) -> None:
    """After the fix (a credit of the whole line), the same check finds nothing on that line."""
    data, truth = s.generate_account(random.Random(seed), customer_id=5, plant=plant)
    fixed_lines = {key for kind, key in truth if kind in (d.DUPLICATE_CHARGE, d.LATE_FEE_PAID_ON_TIME)}
    credited = replace(
        data,
        bills=tuple(
            replace(
                bill,
                lines=tuple(
                    replace(line, credited=line.amount) if line.id in fixed_lines else line
                    for line in bill.lines
                ),
            )
            for bill in data.bills
        ),
    )
    remaining = found(credited)
    assert not {key for kind, key in remaining if kind != d.BILL_SHOCK} & fixed_lines


def test_the_detectors_can_fail() -> None:
    """The planted errors really are errors: a detector that ignores a kind misses them."""
    rng = random.Random(3)
    data, truth = s.generate_account(rng, customer_id=1, plant=frozenset({d.DUPLICATE_CHARGE}))
    assert (d.DUPLICATE_CHARGE, max(key for kind, key in truth if kind == d.DUPLICATE_CHARGE)) in truth
    without = [f for f in d.run_detectors(data) if f.kind != d.DUPLICATE_CHARGE]
    assert {s.finding_key(f) for f in without} != truth
    assert d.finding_id(customer_id=1, kind="x", line_ids=(1, 2)) != d.finding_id(
        customer_id=2, kind="x", line_ids=(1, 2)
    )
