"""Bad input to the handoff service's HTTP API, against the running process: schemathesis over its OpenAPI
spec with every kind of caller (never a 500), and hand-made hostile bodies for the money path (credits)."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest
import schemathesis

from tests.handoff.access_support import USER_OF, claimed_dispute, settle_calls, signed_in
from tests.handoff.conftest import API_TOKEN, REPO_ROOT, Widget, customer_token
from tests.support.fuzz import assert_no_server_errors, operations
from tests.trainer.repo_copy import BOT_PYTHON, copy_repo

LAST = ("/api/console/logout", "/api/console/login")  # fuzzed last: they end the session or lock the address


def bad_input(case: str, expected: str):
    return pytest.mark.trust_case(area="bad input", case=case, expected=expected)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fuzzed_handoff(request, make_handoff, tmp_path):
    """Teaching writes NLU files: into a copy, never the repository's bot/data. The trainer's review reads a
    tracker store written by Rasa's own SQLTrackerStore (.venv-bot), holding one badly handled message."""
    if not BOT_PYTHON.exists():
        pytest.skip(".venv-bot (Rasa) is not installed")
    tracker = tmp_path / "rasa_tracker.db"
    conversations = {
        "fuzz": [("customer", "can i pay with a voucher", "nlu_fallback", 0.4), ("bot", "Sorry?")],
    }
    subprocess.run(
        [str(BOT_PYTHON), str(REPO_ROOT / "tests/trainer/write_tracker_store.py"), "sqlite", str(tracker)],
        input=json.dumps(conversations), text=True, check=True, capture_output=True, cwd=REPO_ROOT,
    )
    database_url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    return make_handoff(database_url=database_url,
                        extra_env={"HANDOFF_TRAINING_REPO_ROOT": str(copy_repo(tmp_path / "repo")),
                                   "TRACKER_DATABASE_URL": f"sqlite:///{tracker}"})


@pytest.mark.slow
@bad_input("Schemathesis: every operation of the handoff OpenAPI spec, anonymous, with the service token "
           "and as specialist, supervisor and trainer", "no 5xx; every answer a JSON 2xx/4xx")
async def test_no_server_errors_on_the_handoff_api(fuzzed_handoff):
    sessions = {role: (await signed_in(fuzzed_handoff, username)).token for role, username in USER_OF.items()}
    callers = {"anonymous": {}, "service": {"Authorization": f"Bearer {API_TOKEN}"},
               **{role: {"Authorization": f"Bearer {token}"} for role, token in sessions.items()}}
    schema = schemathesis.openapi.from_url(f"{fuzzed_handoff.url}/openapi.json")
    found = sorted(
        operations(schema), key=lambda op: (op.path in LAST, LAST.index(op.path) if op.path in LAST else 0)
    )
    assert len(found) >= 25 and found[-1].path == "/api/console/login"
    for headers in callers.values():
        assert_no_server_errors(found, headers=headers, max_examples=10)


# -- credits and other console input -----------------------------------------------------------------------

BAD_CREDITS = {
    "-5.00": "A credit must be a positive amount.",
    "0.001": "Give the credit in dollars and cents, like 12.50 (no fractions of a cent).",
    "12.345": "Give the credit in dollars and cents, like 12.50 (no fractions of a cent).",
    "0.00": "A credit must be more than 0.00.",
    "1e309": "Give the credit in dollars and cents, like 12.50 (no fractions of a cent).",
    "NaN": "Give the credit in dollars and cents, like 12.50 (no fractions of a cent).",
    "99999999999999999999999": "Give the credit in dollars and cents, like 12.50 (no fractions of a cent).",
    "1000000.01": "A credit cannot be more than 1,000,000.00.",
    # 12.50 in Arabic-Indic digits
    "\u0661\u0662.\u0665\u0660": "Give the credit in dollars and cents, like 12.50 (no fractions of a cent).",
    "12.50; DROP TABLE credits": "Give the credit in dollars and cents, like 12.50 (no fractions of a cent).",
}
WRONG_TYPES = {
    "a JSON number": 12.5,
    "a huge JSON number": 10**400,
    "a list": ["12.50"],
    "an object": {"amount": "12.50"},
    "true": True,
}


@bad_input("Credit amount negative, zero, fractions of a cent, 1e309, NaN, 23 digits, over 1,000,000, "
           "Arabic digits, SQL-looking", "422 with a clear message; nothing sent to the backend")
async def test_bad_credit_amounts_are_a_clear_422_and_never_reach_the_backend(handoff, stand_in):
    widget, dana = await claimed_dispute(handoff)
    path = f"/api/console/conversations/{widget.conversation_id}/settle"
    for amount, message in BAD_CREDITS.items():
        refused = await dana.post(path, {"decision": "accepted", "credit_amount": amount, "note": "x"})
        assert refused.status_code == 422, amount
        assert refused.json()["error"] == {
            "code": "invalid_request", "message": f"credit_amount: {message}",
        }, amount
    for name, amount in WRONG_TYPES.items():
        refused = await dana.post(path, {"decision": "accepted", "credit_amount": amount, "note": "x"})
        assert refused.status_code == 422, name
        assert refused.json()["error"]["message"].startswith("credit_amount: "), name
        assert "Traceback" not in refused.text
    assert settle_calls(stand_in, widget.conversation_id) == []
    # The well-formed amount, written the way people type it, goes through once, as exact cents.
    accepted = await dana.post(path, {"decision": "accepted", "credit_amount": " $1,049.9 ", "note": "ok"})
    assert accepted.status_code == 200, accepted.text
    settle = settle_calls(stand_in, widget.conversation_id)
    assert [c["body"]["credit_amount"] for c in settle] == ["1049.90"]
    await dana.close()
    await widget.close()


@bad_input("Settle or resolve with an unknown decision/outcome, wrong JSON types or no body",
           "422 naming the field and the allowed values")
async def test_settle_and_resolve_refuse_unknown_choices_and_wrong_types(handoff, stand_in):
    widget, dana = await claimed_dispute(handoff)
    base = f"/api/console/conversations/{widget.conversation_id}"
    cases = [
        ("/settle", {"decision": "maybe"}, "decision: Input should be 'accepted' or 'rejected'"),
        ("/settle", {"decision": ["accepted"]}, "decision: Input should be 'accepted' or 'rejected'"),
        ("/settle", {}, "decision: Field required"),
        ("/settle", {"decision": "rejected", "note": 42}, "note: Input should be a valid string"),
        ("/settle", {"decision": "rejected", "note": "x" * 2001}, "note: String should have at most 2000"),
        ("/resolve", {"outcome": "refunded"},
         "outcome: Input should be 'credit_issued', 'dispute_rejected' or"),
        ("/messages", {"text": ""}, "text: String should have at least 1 character"),
        ("/messages", {"text": "x" * 4001}, "text: String should have at most 4000"),
        ("/messages", {"text": {"$gt": ""}}, "text: Input should be a valid string"),
        ("/transfer", {"to_username": 42}, "to_username: Input should be a valid string"),
    ]
    for path, body, message in cases:
        refused = await dana.post(base + path, body)
        assert refused.status_code == 422, (path, body, refused.text)
        assert refused.json()["error"]["message"].startswith(message), (path, refused.json())
    assert settle_calls(stand_in, widget.conversation_id) == []
    await dana.close()
    await widget.close()


@bad_input("Malformed JSON, a JSON array or a plain-text body to the console and escalation APIs",
           "422 'not valid JSON' or 'body: ...', never a 500")
async def test_malformed_json_bodies_are_a_clear_422(handoff):
    dana = await signed_in(handoff, "dana")
    targets = [
        ("/api/console/login", {}), ("/api/console/conversations/no-such-chat/messages", dana.http.headers),
        ("/api/escalations", {"Authorization": f"Bearer {API_TOKEN}"}),
    ]
    async with httpx.AsyncClient(base_url=handoff.url) as client:
        for path, headers in targets:
            for raw in ('{"username": "dana", ', "[1, 2, 3]", "just text", "\x00\xff", '{"a": NaN}'):
                answer = await client.post(path, content=raw.encode("utf-8", "surrogatepass"),
                                           headers={**headers, "Content-Type": "application/json"})
                assert answer.status_code == 422, (path, raw, answer.text)
                error = answer.json()["error"]
                assert error["code"] == "invalid_request" and error["message"], (path, raw)
                assert "Traceback" not in answer.text
    await dana.close()


@bad_input("Unknown conversation ids, huge or negative numbers in queries and ids",
           "404 / 422 with a clear message")
async def test_unknown_ids_and_huge_or_negative_numbers_are_4xx(handoff):
    dana, sam = await signed_in(handoff, "dana"), await signed_in(handoff, "sam")
    unknown = await dana.http.get("/api/console/conversations/does-not-exist")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "conversation_not_found"
    claim = await dana.post("/api/console/conversations/" + "x" * 5000 + "/claim")
    assert claim.status_code == 404
    widget = Widget(handoff.ws_url, customer_token(4, "David"))
    await widget.connect()
    for query, message in (
        ("after_seq=-1", "after_seq: Input should be greater than or equal to 0"),
        (f"after_seq={10**30}", "after_seq: Input should be less than or equal to 2147483647"),
        ("after_seq=1.5", "after_seq: Input should be a valid integer"),
    ):
        answer = await dana.http.get(f"/api/console/conversations/{widget.conversation_id}?{query}")
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["message"].startswith(message), answer.text
    for limit in ("0", "-5", str(10**30), "2001"):
        assert (await sam.http.get(f"/api/console/audit?limit={limit}")).status_code == 422
    api = httpx.AsyncClient(base_url=handoff.url, headers={"Authorization": f"Bearer {API_TOKEN}"})
    async with api:
        for field in ("dispute_id", "customer_id"):
            for number in (10**30, 2**31, 0, -1):
                escalation = {"conversation_id": widget.conversation_id, "reason": "dispute", field: number}
                answer = await api.post("/api/escalations", json=escalation)
                assert answer.status_code == 422, (field, number, answer.text)
                assert answer.json()["error"]["message"].startswith(f"{field}: Input should be")
    detail = await sam.http.get(f"/api/console/conversations/{widget.conversation_id}")
    assert detail.json()["state"] == "bot"
    await widget.close()
    for console in (dana, sam):
        await console.close()


@pytest.mark.postgres
@bad_input(
    "NUL characters (\\u0000, %00) in a JSON body, a path or a query, on PostgreSQL "
    "(which refuses NUL in text)",
    "422 'Text may not contain NUL characters', never a 500",
)
async def test_nul_characters_are_a_clear_422_on_postgres(make_handoff, postgres_url):
    handoff = make_handoff(database_url=postgres_url)
    dana = await signed_in(handoff, "dana")
    async with httpx.AsyncClient(base_url=handoff.url) as client:
        answers = [
            await client.post("/api/console/login", json={"username": "da\x00na", "password": "x"}),
            await client.post("/api/escalations", json={"conversation_id": "a\x00b", "reason": "dispute"},
                              headers={"Authorization": f"Bearer {API_TOKEN}"}),
            await dana.http.get("/api/console/conversations/ab%00cd"),
            await dana.http.get("/api/console/conversations/abcd?after_seq=%00"),
            await dana.post("/api/console/conversations/abcd/transfer", {"to_username": "s\x00am"}),
        ]
        for answer in answers:
            assert answer.status_code == 422, answer.request.url
            assert answer.json()["error"] == {"code": "invalid_request",
                                              "message": "Text may not contain NUL (\\u0000) characters."}
        # A backslash typed before "u0000" is ordinary text, not a NUL.
        typed = await client.post("/api/console/login", json={"username": "dana\\u0000", "password": "x"})
        assert typed.status_code == 401
    await dana.close()
