"""scripts/nlu_eval.py's scoring, on parses written by hand (no model): what the gates and reports read."""

from __future__ import annotations

from scripts.nlu_eval import Case, score


def parse(intent: str, confidence: float = 0.9, ranking: list[str] | None = None) -> dict:
    names = ranking or [intent]
    return {"intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": name, "confidence": confidence} for name in names], "entities": []}


def case(text: str, intent: str) -> Case:
    return Case(text=text, intent=intent, entities=frozenset())


def test_a_how_to_pay_message_sent_to_a_payment_intent_is_wrong_but_reported_apart() -> None:
    cases = [*(case(text, "how_to_pay") for text in "abcd"),
             case("e", "out_of_scope"), case("f", "check_balance")]
    parses = [parse("how_to_pay"), parse("pay_bill"), parse("change_autopay"), parse("out_of_scope"),
              parse("out_of_scope"), parse("nlu_fallback", 0.4, ["nlu_fallback", "check_balance"])]

    summary, errors = score(cases, parses)

    assert summary["billing_accuracy_by_intent"] == {"check_balance": 0.0, "how_to_pay": 0.25}
    assert summary["how_to_pay_to_a_payment_intent"] == 0.5
    assert summary["out_of_scope_recall"] == 1.0
    assert summary["in_scope_wrongly_rejected"] == 0.4  # d (out_of_scope) and f (nlu_fallback) of five
    assert summary["in_scope_answered_as_another_intent"] == 0.4  # b and c: another question's answer
    assert [e["text"] for e in errors] == ["b", "c", "d", "f"]


def test_no_how_to_pay_message_gives_no_share_rather_than_zero() -> None:
    summary, _ = score([case("a", "check_balance")], [parse("check_balance")])
    assert summary["how_to_pay_to_a_payment_intent"] is None
    assert summary["billing_accuracy"] == 1.0
