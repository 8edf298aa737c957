"""Simulated customers played through the widget (issue 13's first target): how many are resolved by the bot
alone, with every figure right.

    .venv/bin/python bench/simulated_customers.py [--set dev|dev_v2|frozen|both|all]
        [--json results/customers.json]

Starts the whole stack (tests/support/stack.py: backend, action server, Rasa with the current model, handoff),
and plays each scenario of bench/customers/<set>.yml (format: bench/customers/FORMAT.md) through the handoff
service's WebSocket as a customer would: it types the scenario's turns, answers the bot's identity questions
with the scenario's `verify` line, taps the "Did you mean ...?" suggestion that matches its goal, answers a
dispute's questions, and declines what it did not ask for. Each goal is judged from the backend's API for that
customer, never from constants; every dollar figure the bot states must be one of that customer's figures.
The demo data is seeded again before every scenario, so one scenario's dispute or lockout never changes the
next.

The frozen set's single results are never printed (only its totals): it is not read to change the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.support.chat import ChatClient, customer_token  # noqa: E402
from tests.support.stack import APP_PYTHON, Stack  # noqa: E402

SCENARIO_DIR = REPO_ROOT / "bench" / "customers"
GOALS = (
    "balance", "due_date", "payment_status", "autopay_state", "explain_charge", "bill_increase",
    "list_charges",
    "how_to_pay", "dispute", "human", "other_account",
)
CHARGE_TYPES = ("plan", "usage", "one_time", "equipment", "late_fee", "tax", "proration", "discount")
# The suggestion a customer with this goal taps among "Did you mean ...?" buttons (by the intent it sends).
SUGGESTIONS_FOR_GOAL = {
    "balance": ("check_balance",),
    "due_date": ("ask_due_date", "check_balance"),
    "payment_status": ("payment_status",),
    "autopay_state": ("payment_status", "change_autopay", "how_to_pay"),
    "explain_charge": ("explain_charge", "list_charges"),
    "bill_increase": ("explain_bill_increase",),
    "list_charges": ("list_charges",),
    "how_to_pay": ("how_to_pay", "pay_bill"),
    "dispute": ("dispute_charge",),
    "human": ("request_human",),
    "other_account": (),
}
HANDED_TO_A_PERSON = ("queued", "assigned", "ticket")
DECIMAL = re.compile(r"-?\d+\.\d{2}\b")
AUTOPAY_STATE = re.compile(r"autopay(?:ment)?\s+is\s+(?:currently\s+)?(on|off|not on|turned on|turned off)")
MONEY = re.compile(r"\$\s?(\d{1,3}(?:,\d{3})*(?:\.\d{2})?|\d+(?:\.\d{2})?)")
# Bot replies after which the customer has nothing to do but wait (the reply may come in parts).
EXTRA_EXCHANGES = 3


# -- scenarios -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Turn:
    say: str
    goal: str | None = None
    charge: str | None = None


@dataclass(frozen=True)
class Scenario:
    id: str
    customer: int
    signed_in: bool
    turns: tuple[Turn, ...]
    verify: str | None = None
    reason: str | None = None
    style: str = ""


class ScenarioError(ValueError):
    pass


def load_scenarios(path: Path) -> list[Scenario]:
    """The scenarios of one file, checked against FORMAT.md (a bad one stops the run, naming the scenario)."""
    document = yaml.safe_load(path.read_text())
    scenarios = []
    for raw in document["scenarios"]:
        sid = raw.get("id", "?")
        turns = []
        for raw_turn in raw.get("turns") or []:
            goal = raw_turn.get("goal")
            charge = raw_turn.get("charge", raw.get("charge"))
            if goal is not None and goal not in GOALS:
                raise ScenarioError(f"{sid}: unknown goal {goal!r}")
            if goal in ("explain_charge", "dispute") and charge not in CHARGE_TYPES:
                raise ScenarioError(f"{sid}: goal {goal} needs a charge from {CHARGE_TYPES}, got {charge!r}")
            turns.append(Turn(say=str(raw_turn["say"]), goal=goal, charge=charge if goal else None))
        scenario = Scenario(
            id=sid, customer=int(raw["customer"]), signed_in=bool(raw.get("signed_in", True)),
            turns=tuple(turns), verify=raw.get("verify"), reason=raw.get("reason"),
            style=raw.get("style", ""),
        )
        if not scenario.turns or not any(turn.goal for turn in scenario.turns):
            raise ScenarioError(f"{sid}: no turn with a goal")
        if not scenario.signed_in and not scenario.verify:
            raise ScenarioError(f"{sid}: an anonymous customer needs a verify line")
        if any(turn.goal == "dispute" for turn in scenario.turns) and not scenario.reason:
            raise ScenarioError(f"{sid}: a dispute needs a reason")
        scenarios.append(scenario)
    return scenarios


# -- the customer's data (the oracle) ------------------------------------------------------------------------

def money(amount: str | Decimal) -> str:
    """The way the bot writes money: $1,234.50."""
    return f"${abs(Decimal(amount)):,.2f}"


def spoken_dates(iso: str) -> tuple[str, ...]:
    """The ways a reply may state a date: "December 18, 2026", "December 18", "Dec 18", "2026-12-18"."""
    day = time.strptime(iso, "%Y-%m-%d")
    month, short, number = time.strftime("%B", day), time.strftime("%b", day), str(day.tm_mday)
    return (f"{month} {number}", f"{short} {number}", f"{number} {month}", iso)


@dataclass
class CustomerData:
    """What the backend says about one customer, read before the scenario (and disputes after each turn)."""
    api: httpx.Client
    customer_id: int
    account: dict[str, Any] = field(default_factory=dict)
    balance: dict[str, Any] = field(default_factory=dict)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    latest_lines: list[dict[str, Any]] = field(default_factory=list)
    all_lines: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    comparison: dict[str, Any] = field(default_factory=dict)
    methods: dict[str, Any] = field(default_factory=dict)
    figures: set[Decimal] = field(default_factory=set)

    def get(self, path: str) -> Any:
        response = self.api.get(f"/api/v1/customers/{self.customer_id}{path}")
        response.raise_for_status()
        return response.json()

    def read(self) -> CustomerData:
        self.account = self.get("")["account"]
        self.balance = self.get("/balance")
        self.invoices = self.get("/invoices")
        for invoice in self.invoices:
            lines = [{**line, "invoice_number": invoice["number"]}
                     for line in self.get(f"/invoices/{invoice['number']}")["line_items"]]
            self.all_lines.extend(lines)
            if invoice is self.invoices[0]:
                self.latest_lines = lines
        self.payments = self.get("/payments")
        self.comparison = self.get("/bill-comparison")
        self.methods = self.get("/payment-methods")
        self.figures = self._figures()
        return self

    def disputes(self) -> list[dict[str, Any]]:
        return self.get("/disputes")

    def _figures(self) -> set[Decimal]:
        """Every amount of this customer's data a reply may state (as a positive amount)."""
        amounts: list[Any] = [
            self.balance.get(key) for key in ("total_due", "past_due", "next_due_amount", "pending_payments")
        ]
        if self.balance.get("last_payment"):
            amounts.append(self.balance["last_payment"]["amount"])
        amounts += [invoice[key] for invoice in self.invoices for key in ("total", "amount_due")]
        amounts += [line[key] for line in self.all_lines for key in ("amount", "unit_rate")]
        amounts += [payment["amount"] for payment in self.payments]
        amounts += [self.comparison.get(key) for key in ("current_total", "previous_total", "difference")]
        amounts += [
            change[key] for change in self.comparison.get("changes", [])
            for key in ("previous_amount", "current_amount", "difference")
        ]
        explained = []
        for line in self.latest_lines:
            explained.append(self.get(f"/line-items/{line['id']}/explanation"))
        figures = {abs(Decimal(str(amount))) for amount in amounts if amount not in (None, "")}
        # a category's total on one invoice ("each tax and fee line ... $7.79 in all")
        by_category: Counter[tuple[str, str]] = Counter()
        for line in self.all_lines:
            by_category[(line["invoice_number"], line["charge_type"])] += Decimal(line["amount"])
        figures |= {abs(total) for total in by_category.values()}
        # Amounts inside the backend's own explanations (a plan's price, a rate, a fee's policy amount).
        for explanation in explained:
            text = " ".join(str(explanation.get(key) or "") for key in ("summary", "computation", "policy"))
            figures |= {Decimal(found.replace(",", "")) for found in MONEY.findall(text)}
        for finding in self._findings():
            # a finding's amount, its evidence's line amounts and named amounts (money strings, no sign)
            figures |= {abs(Decimal(found)) for found in DECIMAL.findall(json.dumps(finding))}
        return figures

    def _findings(self) -> list[dict[str, Any]]:
        response = self.api.get(f"/api/v1/customers/{self.customer_id}/findings")
        response.raise_for_status()
        return response.json()["findings"]


@dataclass(frozen=True)
class Reply:
    """The bot's replies to one turn of the customer (every part joined), and what happened around them."""
    text: str
    charge: str | None
    handed_over: bool
    disputes_before: int

    @property
    def lower(self) -> str:
        return self.text.lower()


def _balance(reply: Reply, data: CustomerData) -> bool:
    needed = [data.balance["total_due"]]
    if Decimal(data.balance["past_due"]) > 0:
        needed.append(data.balance["past_due"])
    return all(money(amount) in reply.text for amount in needed)


def _due_date(reply: Reply, data: CustomerData) -> bool:
    due = data.balance.get("next_due_date") or data.invoices[0]["due_date"]
    return any(spoken in reply.text for spoken in spoken_dates(due))


def _payment_status(reply: Reply, data: CustomerData) -> bool:
    if not data.payments:
        return "payment" in reply.lower
    latest = max(data.payments, key=lambda p: (p["received_date"], p["id"]))
    status_words = {
        "pending": ("pending", "processing"),
        "failed": (str(latest.get("failure_reason") or "failed").lower(), "didn't go through", "failed"),
        "posted": ("received", "posted", "went through"),
        "reversed": ("reversed",),
    }[latest["status"]]
    return money(latest["amount"]) in reply.text and any(word in reply.lower for word in status_words)


def _autopay_state(reply: Reply, data: CustomerData) -> bool:
    said = AUTOPAY_STATE.search(reply.lower)
    return bool(said) and (said.group(1) in ("on", "turned on")) == bool(data.account.get("autopay"))


def _explain_charge(reply: Reply, data: CustomerData) -> bool:
    types = (reply.charge, "credit") if reply.charge == "proration" else (reply.charge,)
    lines = [line for line in data.latest_lines if line["charge_type"] in types]
    if reply.charge == "tax":  # a category: every line of it
        return bool(lines) and all(money(line["amount"]) in reply.text for line in lines)
    return any(money(line["amount"]) in reply.text for line in lines)


def _how_to_pay(reply: Reply, data: CustomerData) -> bool:
    ways = [way.get("instructions", "") for way in data.methods.get("ways_to_pay", [])]
    said_ways = any(way and way[:40] in reply.text for way in ways)
    return said_ways or "you can pay" in reply.lower or "how you can pay" in reply.lower


def _dispute(reply: Reply, data: CustomerData) -> bool:
    lines = {line["id"] for line in data.all_lines if line["charge_type"] == reply.charge}
    return len([d for d in data.disputes() if d["line_item_id"] in lines]) > reply.disputes_before


JUDGES: dict[str, Any] = {
    "balance": _balance,
    "due_date": _due_date,
    "payment_status": _payment_status,
    "autopay_state": _autopay_state,
    "explain_charge": _explain_charge,
    "bill_increase": lambda reply, data: money(data.comparison["difference"]) in reply.text,
    "list_charges": lambda reply, data: all(
        money(line["amount"]) in reply.text for line in data.latest_lines
    ),
    "how_to_pay": _how_to_pay,
    "dispute": _dispute,
    "human": lambda reply, data: reply.handed_over,
    "other_account": lambda reply, data: "own account" in reply.lower and not MONEY.search(reply.text),
}


def goal_met(goal: str, charge: str | None, text: str, data: CustomerData, *, handed_over: bool,
             disputes_before: int) -> bool:
    """Whether the bot's replies to one turn (`text`, all parts joined) give the customer what they asked."""
    if goal not in JUDGES:
        raise ScenarioError(f"unknown goal {goal}")
    return bool(JUDGES[goal](Reply(text, charge, handed_over, disputes_before), data))


def wrong_figures(text: str, data: CustomerData) -> list[str]:
    return [
        f"${found}" for found in MONEY.findall(text) if Decimal(found.replace(",", "")) not in data.figures
    ]


# -- the customer ------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    scenario: str
    goals: int = 0
    goals_met: int = 0
    missed: list[str] = field(default_factory=list)
    reached_a_person: bool = False
    person_was_the_goal: bool = False
    figures_wrong: list[str] = field(default_factory=list)
    error: str = ""
    transcript: list[tuple[str, str]] = field(default_factory=list)

    @property
    def resolved_by_bot(self) -> bool:
        unexpected_person = self.reached_a_person and not self.person_was_the_goal
        return (not self.error and self.goals_met == self.goals and not unexpected_person
                and not self.figures_wrong)


def button_intent(button: dict[str, Any]) -> str:
    payload = button.get("payload") or ""
    return payload.lstrip("/").split("{", 1)[0]


class Customer:
    """Plays one scenario; reacts to the bot as a person with that goal would."""

    def __init__(self, scenario: Scenario, chat: ChatClient, data: CustomerData):
        self.scenario, self.chat, self.data = scenario, chat, data
        self.outcome = Outcome(scenario.id)
        self.verify_sent = 0

    async def send(self, text: str, payload: str | None = None) -> list[dict[str, Any]]:
        self.outcome.transcript.append(("customer", text if not payload else f"[{text}] {payload}"))
        frames = await self.chat.say(text, payload=payload, quiet=1.5, timeout=60)
        for frame in frames:
            if frame.get("type") == "status" and frame.get("state") in HANDED_TO_A_PERSON:
                self.outcome.reached_a_person = True
            if frame.get("type") == "message" and frame.get("sender") in ("bot", "system"):
                buttons = " ".join(f"[{b.get('title')}]" for b in frame.get("buttons") or [])
                said = f"{frame.get('text') or ''} {buttons}".strip()
                self.outcome.transcript.append((frame["sender"], said))
                self.outcome.figures_wrong += wrong_figures(frame.get("text") or "", self.data)
        return frames

    async def play(self) -> Outcome:
        for turn in self.scenario.turns:
            if turn.goal:
                self.outcome.goals += 1
                self.outcome.person_was_the_goal |= turn.goal in ("dispute", "human")
            met = await self.play_turn(turn)
            if turn.goal and met:
                self.outcome.goals_met += 1
            elif turn.goal:
                self.outcome.missed.append(turn.goal)
                break  # a customer whose question went unanswered does not go on to the next one
        return self.outcome

    async def play_turn(self, turn: Turn) -> bool:
        disputes_before = 0
        if turn.goal == "dispute":
            lines = {line["id"] for line in self.data.all_lines if line["charge_type"] == turn.charge}
            disputes_before = len([d for d in self.data.disputes() if d["line_item_id"] in lines])
        frames = await self.send(turn.say)
        said: list[str] = []
        for _ in range(EXTRA_EXCHANGES + 1):
            said += ChatClient.texts(frames) + ChatClient.texts(frames, sender="system")
            text = "\n".join(said)
            if turn.goal is None or goal_met(turn.goal, turn.charge, text, self.data,
                                             handed_over=self.outcome.reached_a_person,
                                             disputes_before=disputes_before):
                if turn.goal is None and self.asks_who(frames):
                    frames = await self.send(self.scenario.verify or "")
                    continue
                return True
            answer = self.answer(turn, frames)
            if answer is None:
                return False
            frames = await self.send(*answer)
        return False

    def asks_who(self, frames: list[dict[str, Any]]) -> bool:
        text = " ".join(ChatClient.texts(frames)).lower()
        asks = "account number" in text or "postal code" in text or "last 4 digits" in text
        return bool(asks and not self.scenario.signed_in and self.scenario.verify and self.verify_sent < 2)

    def answer(self, turn: Turn, frames: list[dict[str, Any]]) -> tuple[str, str | None] | None:
        """What the customer does next after a reply that did not yet give them what they asked; None: give
        up."""
        if self.outcome.reached_a_person and turn.goal not in ("human", "dispute"):
            return None
        if self.asks_who(frames):
            self.verify_sent += 1
            return (self.scenario.verify or "", None)
        last = next((f for f in reversed(frames) if f.get("type") == "message" and f.get("buttons")), None)
        buttons = last["buttons"] if last is not None else []
        if turn.goal == "dispute" and (step := self.dispute_step(turn, frames, buttons)):
            return step
        wanted = SUGGESTIONS_FOR_GOAL.get(turn.goal or "", ())
        for button in buttons:
            if button.get("payload") and button_intent(button) in wanted:
                return (button["title"], button["payload"])
        return None

    def dispute_step(self, turn: Turn, frames: list[dict[str, Any]],
                     buttons: list[dict[str, Any]]) -> tuple[str, str | None] | None:
        """The reason when asked for it, "yes" to the confirmation, the disputed charge among buttons."""
        text = " ".join(ChatClient.texts(frames)).lower()
        if "what's wrong" in text or "tell me a bit more" in text or ("why" in text and "dispute" in text):
            return (self.scenario.reason or "", None)
        for button in buttons:
            if button_intent(button) == "affirm" and "dispute" in text:
                return (button["title"], button["payload"])
        for button in buttons:
            if self.names_the_charge(button.get("title", ""), turn.charge):
                return (button["title"], button["payload"])
        return None

    def names_the_charge(self, title: str, charge: str | None) -> bool:
        return any(
            line["description"].lower() in title.lower()
            for line in self.data.latest_lines if line["charge_type"] == charge
        )


# -- the run -----------------------------------------------------------------------------------------------

def reseed(stack: Stack) -> None:
    subprocess.run([str(APP_PYTHON), "-m", "backend.cli", "seed-demo", "--reset"], cwd=REPO_ROOT,
                   env=stack.env, check=True, capture_output=True)


async def play(stack: Stack, scenario: Scenario) -> Outcome:
    reseed(stack)
    with httpx.Client(base_url=stack.backend_url, headers=stack.backend_headers(), timeout=30) as api:
        data = CustomerData(api, scenario.customer).read()
        token = customer_token(secret=stack.env["CUSTOMER_JWT_SECRET"], customer_id=scenario.customer) \
            if scenario.signed_in else ""
        chat = ChatClient(stack.chat_ws_url, token=token)
        await chat.connect()
        customer = Customer(scenario, chat, data)
        try:
            return await customer.play()
        except (TimeoutError, httpx.HTTPError, OSError) as error:
            customer.outcome.error = f"{type(error).__name__}: {error}"[:300]
            return customer.outcome
        finally:
            await chat.close()


def report(name: str, scenarios: list[Scenario], outcomes: list[Outcome], *, singles: bool) -> dict[str, Any]:
    resolved = sum(outcome.resolved_by_bot for outcome in outcomes)
    goals = Counter()
    goals_met = Counter()
    for scenario, outcome in zip(scenarios, outcomes, strict=True):
        asked = [turn.goal for turn in scenario.turns if turn.goal]
        goals.update(asked)
        goals_met.update(asked[: outcome.goals_met])
    summary = {
        "set": name, "scenarios": len(outcomes), "resolved_by_bot": resolved,
        "share": round(resolved / len(outcomes), 3) if outcomes else 0.0,
        "goals": sum(goals.values()), "goals_met": sum(goals_met.values()),
        "wrong_figures": sum(bool(o.figures_wrong) for o in outcomes),
        "unexpected_person": sum(o.reached_a_person and not o.person_was_the_goal for o in outcomes),
        "errors": sum(bool(o.error) for o in outcomes),
        "per_goal": {goal: [goals_met[goal], goals[goal]] for goal in GOALS if goals[goal]},
    }
    print(f"\n## {name}: {resolved}/{len(outcomes)} resolved by the bot alone ({summary['share']:.0%})")
    print("| goals met | scenarios with a wrong figure | reached a person unasked | errors |")
    print("|---|---|---|---|")
    print(f"| {summary['goals_met']}/{summary['goals']} | {summary['wrong_figures']} | "
          f"{summary['unexpected_person']} | {summary['errors']} |")
    print("\n| goal | met / asked |\n|---|---|")
    for goal, (met, asked) in summary["per_goal"].items():
        print(f"| {goal} | {met}/{asked} |")
    if singles:
        print()
        for scenario, outcome in zip(scenarios, outcomes, strict=True):
            if not outcome.resolved_by_bot:
                why = outcome.error or ", ".join(filter(None, [
                    f"missed {outcome.missed}" if outcome.missed else "",
                    "reached a person" if outcome.reached_a_person and not outcome.person_was_the_goal
                    else "",
                    f"figures not in the data {outcome.figures_wrong}" if outcome.figures_wrong else "",
                ]))
                print(f"- {scenario.id} (customer {scenario.customer}, {scenario.style}): {why}")
        summary["outcomes"] = [outcome.__dict__ for outcome in outcomes]
    return summary


async def run(sets: list[Path], limit: int | None) -> list[dict[str, Any]]:
    summaries = []
    with tempfile.TemporaryDirectory(prefix="simulated-customers-") as workdir:
        stack = Stack(workdir=Path(workdir)).start()
        try:
            for path in sets:
                scenarios = load_scenarios(path)[:limit]
                outcomes = [await play(stack, scenario) for scenario in scenarios]
                summaries.append(report(path.stem, scenarios, outcomes, singles=path.stem != "frozen"))
        finally:
            stack.stop()
    return summaries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=("dev", "dev_v2", "frozen", "both", "all"), default="both",
                        help="both: dev and frozen; all: dev, dev_v2 and frozen")
    parser.add_argument("--limit", type=int, default=None, help="only the first N scenarios of each set")
    parser.add_argument("--file", type=Path, default=None, help="another scenario file instead of the sets")
    parser.add_argument("--json", type=Path, default=None,
                        help="write the summaries (dev: every outcome) here")
    args = parser.parse_args()
    names = {"both": ["dev", "frozen"], "all": ["dev", "dev_v2", "frozen"]}.get(args.set, [args.set])
    sets = [args.file] if args.file else [SCENARIO_DIR / f"{name}.yml" for name in names]
    for path in sets:
        load_scenarios(path)  # a bad file fails before the stack starts
    print(f"machine: {platform.node()} {platform.machine()}, Python {platform.python_version()}")
    started = time.monotonic()
    summaries = asyncio.run(run(sets, args.limit))
    print(f"\n{time.monotonic() - started:.0f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summaries, indent=2, default=str))


if __name__ == "__main__":
    main()
