"""One table of the supervisor's report as a CSV download (the csv module quotes commas, quotes and line
breaks; every text cell goes through audit_export.cell, so a spreadsheet never runs it as a formula)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any, Literal

from fastapi.responses import Response

from handoff.specialists.audit_export import cell

Table = Literal["overall", "teams", "specialists", "escalations", "by_day", "credits", "disputes", "payments"]

FIGURE_COLUMNS = ("conversations", "contained", "containment_rate", "escalated", "resolved",
                  "resolution_rate", "bot_resolved", "bot_resolution_rate", "abandoned_in_queue",
                  "abandoned_mid_flow",
                  "repeat_contacts", "wait_median_seconds", "wait_p90_seconds", "handling_median_seconds",
                  "handling_p90_seconds", "csat_average", "csat_responses")

MONEY_COLUMNS = ("credits_issued_count", "credits_issued_amount", "payments_taken_count",
                 "payments_taken_amount")


def _money_cells(row: dict[str, Any]) -> dict[str, Any]:
    """A specialist's credits and payments as a count and `12.00 USD` (`; ` between currencies); blank when
    the billing system did not answer."""
    cells: dict[str, Any] = {}
    for field in ("credits_issued", "payments_taken"):
        totals = row.get(field)
        cells[f"{field}_count"] = None if totals is None else sum(t["count"] for t in totals)
        cells[f"{field}_amount"] = None if totals is None else "; ".join(
            f"{t['amount']} {t['currency']}" for t in totals)
    return cells


def _billing(report: dict[str, Any], section: str, part: str) -> list[dict[str, Any]]:
    billing = report.get("billing") or {}
    return list((billing.get(section) or {}).get(part) or [])


def _rows(report: dict[str, Any], table: str) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    tables: dict[str, Callable[[], tuple[tuple[str, ...], list[dict[str, Any]]]]] = {
        "overall": lambda: (("scope", *FIGURE_COLUMNS), [{"scope": "overall", **report["overall"]}]),
        "teams": lambda: (("team", "label", *FIGURE_COLUMNS), report["teams"]),
        "specialists": lambda: (("username", "display_name", *FIGURE_COLUMNS, *MONEY_COLUMNS),
                                [{**row, **_money_cells(row)} for row in report["specialists"]]),
        "escalations": lambda: (("reason", "label", "count"), report["escalations_by_reason"]),
        "by_day": lambda: (("date", "conversations", "escalated", "resolved"), report["by_day"]),
        "credits": lambda: (("reason", "currency", "count", "amount"),
                            _billing(report, "credits", "by_reason")),
        "disputes": lambda: (("outcome", "currency", "count", "amount"),
                             _billing(report, "disputes", "by_outcome")),
        "payments": lambda: (("source", "status", "currency", "count", "amount"),
                             _billing(report, "payments", "by_source")),
    }
    return tables[table]()


def _text(value: object) -> object:
    return cell(value) if isinstance(value, str) else "" if value is None else value


def download(report: dict[str, Any], *, table: str) -> Response:
    columns, rows = _rows(report, table)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_text(row.get(column)) for column in columns])
    name = f"billing-report-{table}-{report['start']}-{report['end']}.csv"
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
