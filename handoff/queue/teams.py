"""Teams (issue 17): which team's queue a conversation waits in, who works which queue, each team's SLA.

The one place that maps an escalation reason to a team; pure functions, unit tested.
"""

from __future__ import annotations

from enum import StrEnum

from handoff.vocabulary import StaffRole


class Team(StrEnum):
    DISPUTES = "disputes"
    PAYMENTS = "payments"
    GENERAL = "general"


ALL_TEAMS: tuple[Team, ...] = tuple(Team)
# Reasons about taking a payment or agreeing a payment arrangement go to the payments team.
PAYMENT_REASON_PREFIXES = ("payment", "arrangement")


def team_for_reason(reason: str | None) -> Team:
    """dispute -> disputes; payment/arrangement reasons -> payments; every other reason -> general."""
    if reason == "dispute":
        return Team.DISPUTES
    if reason and reason.startswith(PAYMENT_REASON_PREFIXES):
        return Team.PAYMENTS
    return Team.GENERAL


def parse_teams(value: str | None) -> tuple[str, ...]:
    """A staff member's stored teams ("disputes,general"), unknown names dropped, in Team order."""
    named = {part.strip() for part in (value or "").split(",")}
    return tuple(team.value for team in ALL_TEAMS if team.value in named)


def format_teams(teams: tuple[str, ...] | list[str]) -> str:
    unknown = sorted(set(teams) - {team.value for team in ALL_TEAMS})
    if unknown or not teams:
        raise ValueError(f"teams must be some of {[team.value for team in ALL_TEAMS]}, got {list(teams)}")
    return ",".join(parse_teams(",".join(teams)))


def works_team(*, role: str, teams: tuple[str, ...], team: str | None) -> bool:
    """A supervisor works every queue; a specialist their teams' (a chat without a team is general's)."""
    return role == StaffRole.SUPERVISOR or (team or Team.GENERAL) in teams


def parse_sla(value: str) -> dict[str, int]:
    """HANDOFF_SLA_SECONDS "disputes=300,payments=300,general=600" -> {team: seconds} (a team left out:
    no threshold)."""
    thresholds: dict[str, int] = {}
    for part in value.split(","):
        if not part.strip():
            continue
        name, sep, seconds = part.partition("=")
        name = name.strip()
        if not sep or name not in {team.value for team in ALL_TEAMS}:
            raise ValueError(f"HANDOFF_SLA_SECONDS: '{part.strip()}' is not <team>=<seconds> of a known team")
        try:
            thresholds[name] = int(seconds.strip())
        except ValueError:
            raise ValueError(f"HANDOFF_SLA_SECONDS: '{seconds.strip()}' is not a whole number of seconds") \
                from None
        if thresholds[name] <= 0:
            raise ValueError("HANDOFF_SLA_SECONDS: a threshold must be positive")
    return thresholds
