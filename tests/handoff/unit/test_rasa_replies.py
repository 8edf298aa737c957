"""What the handoff service keeps of a bot reply's buttons (docs/contracts.md, widget protocol)."""

from __future__ import annotations

from handoff.clients.rasa import _parse_replies


def buttons_of(*buttons: object) -> list[dict]:
    (reply,) = _parse_replies([{"recipient_id": "c", "text": "Pick one", "buttons": list(buttons)}])
    return reply.buttons


def test_payload_buttons_keep_title_and_payload_only() -> None:
    kept = buttons_of({"title": "Yes", "payload": "/affirm", "extra": "x"})
    assert kept == [{"title": "Yes", "payload": "/affirm"}]


def test_a_link_button_keeps_an_absolute_http_url() -> None:
    assert buttons_of({"title": "Pay", "url": "https://billing.example.com/pay/t0k"}) == [
        {"title": "Pay", "url": "https://billing.example.com/pay/t0k"}
    ]


def test_other_links_are_dropped_with_their_button() -> None:
    kept = buttons_of(
        {"title": "x", "url": "javascript:alert(1)"},
        {"title": "y", "url": "/pay/relative"},
        {"title": "z", "url": "data:text/html,hi"},
        {"title": "w", "url": None},
        "not a button",
        {"title": "Yes", "payload": "/affirm"},
    )
    assert kept == [{"title": "Yes", "payload": "/affirm"}]
