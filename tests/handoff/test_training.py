"""Review and teach in the console: a real handoff process reads a tracker store written by Rasa's own
SQLTrackerStore and teaches into a temporary copy of the bot's data (never the real bot/data)."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest

from tests.handoff.conftest import REPO_ROOT, Console
from tests.support.browser import chromium
from tests.support.demo_page import sign_in_to_console
from tests.trainer.repo_copy import copy_repo

BOT_PYTHON = REPO_ROOT / ".venv-bot" / "bin" / "python"
WRITER = REPO_ROOT / "tests" / "trainer" / "write_tracker_store.py"
CLICK = '/inform{"line_item_id": "30"}'
FALLBACK_RANKING = [("nlu_fallback", 0.5), ("how_to_pay", 0.41)]
CONVERSATIONS = {
    "card-1": [  # a button click before the message: the transcript shows the button's title
        ("bot", "Which charge do you mean?", [["Installation fee $49.00", CLICK],
                                              ["Late fee $10.00", '/inform{"line_item_id": "31"}']]),
        ("customer", CLICK, "inform", 0.99),
        ("bot", "The installation fee is a one-time charge."),
        ("customer", "how do i change the card on file", "nlu_fallback", 0.5, [], FALLBACK_RANKING),
        ("bot", "Sorry, I didn't get that. Could you rephrase?"),
    ],
    "card-2": [
        ("customer", "How do I change the card on file?", "nlu_fallback", 0.5, [], FALLBACK_RANKING),
        ("bot", "Sorry, I didn't get that. Could you rephrase?"),
        ("customer", "ok bye", "goodbye", 0.97),
    ],
    "card-3": [
        ("customer", "how do i change the card on file please", "nlu_fallback", 0.5, [], FALLBACK_RANKING),
        ("bot", "Sorry, I didn't get that. Could you rephrase?"),
    ],
    "markup": [
        ("customer", "<b>refund</b> the gift voucher", "nlu_fallback", 0.5, [], [("nlu_fallback", 0.5)]),
        ("bot", "Sorry, I didn't get that. Could you rephrase?"),
    ],
    "confident": [
        ("customer", "what is my balance", "check_balance", 0.97),
        ("bot", "Your balance is $42.50."),
    ],
}
REPRESENTATIVE = "how do i change the card on file"


@pytest.fixture
def tracker_url(tmp_path) -> str:
    if not BOT_PYTHON.exists():
        pytest.skip(".venv-bot (Rasa) is not installed")
    path = tmp_path / "rasa_tracker.db"
    subprocess.run([str(BOT_PYTHON), str(WRITER), "sqlite", str(path)], input=json.dumps(CONVERSATIONS),
                   text=True, check=True, capture_output=True, cwd=REPO_ROOT)
    return f"sqlite:///{path}"


@pytest.fixture
def bot_copy(tmp_path):
    return copy_repo(tmp_path / "repo")


@pytest.fixture
def training_handoff(make_handoff, tracker_url, bot_copy):
    return make_handoff(extra_env={"TRACKER_DATABASE_URL": tracker_url,
                                   "HANDOFF_TRAINING_REPO_ROOT": str(bot_copy)})


async def logged_in(handoff, username: str, password: str) -> Console:
    console = Console(handoff, username, password)
    await console.login()
    return console


def how_to_pay_file(repo) -> str:
    # how_to_pay has examples in two files; teaching writes into the first in sorted order
    return next(
        p for p in sorted((repo / "bot/data/nlu").glob("*.yml")) if "- intent: how_to_pay" in p.read_text()
    )


async def test_trainer_reviews_and_teaches_a_cluster(training_handoff, bot_copy):
    real_before = {p: p.read_text() for p in (REPO_ROOT / "bot/data/nlu").glob("*.yml")}
    tess = await logged_in(training_handoff, "tess", "tess-demo-pass")

    review = (await tess.http.get("/api/console/training/review", params={"threshold": 0.6})).json()
    assert review["threshold"] == 0.6
    clusters = {c["representative"]: c for c in review["clusters"]}
    assert REPRESENTATIVE in clusters, review
    cluster = clusters[REPRESENTATIVE]
    assert cluster["count"] == 3 and cluster["conversations"] == 3
    assert cluster["reasons"] == [{"code": "nlu_fallback", "label": "NLU fallback", "count": 3}]
    assert cluster["suggested_intent"] == "how_to_pay"
    assert cluster["suggested_intent_is_guess"] is True
    clicked = [line for e in cluster["examples"] for line in e["transcript"] if line["button"]]
    assert clicked == [{"speaker": "customer", "text": "Installation fee $49.00", "flagged": False,
                        "button": True}]
    example = cluster["examples"][0]
    assert example["sender_id"].startswith("card-")
    flagged = [line for line in example["transcript"] if line["flagged"]]
    assert [line["speaker"] for line in flagged] == ["customer"]
    assert any(line["speaker"] == "bot" for line in example["transcript"])
    assert all("what is my balance" != c["representative"] for c in review["clusters"])

    intents = (await tess.http.get("/api/console/training/intents")).json()["intents"]
    assert "how_to_pay" in intents and "check_balance" in intents
    assert not any(name.startswith("EXTERNAL_") for name in intents)

    taught = await tess.http.post("/api/console/training/examples", json={
        "intent": "how_to_pay", "examples": cluster["distinct_texts"], "cluster_id": cluster["cluster_id"]})
    assert taught.status_code == 200, taught.text
    result = taught.json()
    assert sorted(result["added"]) == sorted(cluster["distinct_texts"])
    assert "make retrain" in result["next_step"] and "make ship" in result["next_step"]
    written = (bot_copy / result["file"]).read_text()
    for text in cluster["distinct_texts"]:
        assert f"- {text}\n" in written
    assert str(how_to_pay_file(bot_copy).relative_to(bot_copy)) == result["file"]

    # Teaching the same phrasing to another intent is refused with the trainer's reason; nothing written.
    before = written
    refused = await tess.http.post("/api/console/training/examples", json={
        "intent": "payment_status", "examples": [REPRESENTATIVE]})
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "example_conflict"
    assert "already an example of 'how_to_pay'" in error["message"]
    assert "Traceback" not in refused.text
    assert (bot_copy / result["file"]).read_text() == before

    # Again to the same intent: nothing new, said plainly.
    again = (await tess.http.post("/api/console/training/examples", json={
        "intent": "how_to_pay", "examples": [REPRESENTATIVE]})).json()
    assert again["added"] == [] and again["skipped"] == [REPRESENTATIVE]

    # The real bot data was never touched.
    assert {p: p.read_text() for p in (REPO_ROOT / "bot/data/nlu").glob("*.yml")} == real_before

    sam = await logged_in(training_handoff, "sam", "sam-demo-pass")
    entries = (await sam.http.get("/api/console/audit")).json()["entries"]
    actions = [(e["actor"], e["action"], e["target"]) for e in entries]
    assert ("trainer:tess", "training_teach", "how_to_pay") in actions
    assert ("trainer:tess", "training_teach_refused", "payment_status") in actions
    teach_entry = next(e for e in entries if e["action"] == "training_teach" and e["details"]["added"])
    assert teach_entry["details"]["cluster_id"] == cluster["cluster_id"]
    for console in (tess, sam):
        await console.http.aclose()


async def test_unknown_intent_and_bad_input_get_clear_errors(training_handoff, bot_copy):
    tess = await logged_in(training_handoff, "tess", "tess-demo-pass")
    unknown = await tess.http.post("/api/console/training/examples", json={
        "intent": "update_card", "examples": ["change my card"]})
    assert unknown.status_code == 400
    assert "make new-intent NAME=update_card" in unknown.json()["error"]["message"]
    annotated = await tess.http.post("/api/console/training/examples", json={
        "intent": "how_to_pay", "examples": ["pay [ACC-100001](account_number) now"]})
    assert annotated.status_code == 400
    assert "entity annotations" in annotated.json()["error"]["message"]
    empty = await tess.http.post(
        "/api/console/training/examples", json={"intent": "how_to_pay", "examples": []}
    )
    assert empty.status_code == 422 and empty.json()["error"]["message"]
    bad_threshold = await tess.http.get("/api/console/training/review", params={"threshold": 2})
    assert bad_threshold.status_code == 422
    await tess.http.aclose()


async def test_only_trainers_may_review_or_teach(training_handoff, bot_copy):
    before = how_to_pay_file(bot_copy).read_text()
    for username, password in (("dana", "dana-demo-pass"), ("sam", "sam-demo-pass")):
        console = await logged_in(training_handoff, username, password)
        assert (await console.http.get("/api/console/training/review")).status_code == 403
        assert (await console.http.get("/api/console/training/intents")).status_code == 403
        refused = await console.http.post("/api/console/training/examples", json={
            "intent": "how_to_pay", "examples": ["how do i change the card on file"]})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"
        await console.http.aclose()
    async with httpx.AsyncClient() as client:
        anonymous = await client.get(f"{training_handoff.url}/api/console/training/review")
    assert anonymous.status_code == 401
    assert how_to_pay_file(bot_copy).read_text() == before


async def test_missing_tracker_store_is_a_clear_error(make_handoff, tmp_path, bot_copy):
    handoff = make_handoff(extra_env={"TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'absent.db'}",
                                      "HANDOFF_TRAINING_REPO_ROOT": str(bot_copy)})
    tess = await logged_in(handoff, "tess", "tess-demo-pass")
    answer = await tess.http.get("/api/console/training/review")
    assert answer.status_code == 503
    assert "no tracker store" in answer.json()["error"]["message"]
    await tess.http.aclose()


@pytest.fixture
def browser_page():
    with chromium() as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page, errors  # script errors only: the 401/404/409 answers are logged by chromium too


@pytest.mark.browser
def test_review_and_teach_page_in_a_browser(training_handoff, bot_copy, browser_page):
    page, errors = browser_page
    sign_in_to_console(page, training_handoff.url, "tess", "tess-demo-pass")
    page.wait_for_selector("[data-testid=trainer-view]:not([hidden])")
    cluster = page.wait_for_selector(f"[data-testid=training-cluster]:has([data-testid=training-cluster-text]"
                                     f":text-is('{REPRESENTATIVE}'))")
    # "\u00d7" is the multiplication sign the page shows before a count
    assert cluster.query_selector("[data-testid=training-cluster-count]").text_content() == "\u00d73"
    assert cluster.get_attribute("data-cluster-id")
    markup = page.locator("[data-testid=training-cluster-text]", has_text="gift voucher")
    assert markup.text_content() == "<b>refund</b> the gift voucher"  # text, never markup
    assert page.locator("[data-testid=training-cluster] b").count() == 0

    # A click reads as the button's title, never its payload.
    clicks = cluster.query_selector_all("[data-testid=training-transcript-line][data-button=true]")
    assert [line.text_content() for line in clicks] == ["customer:[clicked] Installation fee $49.00"]
    assert "/inform" not in cluster.text_content()
    # Under a fallback the best guess is the classifier's runner-up: shown, not chosen for the trainer.
    select = cluster.query_selector("[data-testid=training-intent-select]")
    assert select.input_value() == ""
    assert "runner-up (a guess, not chosen for you): how_to_pay" in cluster.query_selector(
        "[data-testid=training-cluster-reasons]").text_content()
    select.select_option("how_to_pay")
    # A new intent name explains the make command instead.
    cluster.query_selector("[data-testid=training-new-intent]").fill("update_card")
    assert "make new-intent NAME=update_card" in cluster.query_selector(
        "[data-testid=training-new-intent-hint]").text_content()

    cluster.query_selector("[data-testid=training-teach-button]").click()
    result = page.wait_for_selector("[data-testid=training-result]:not([hidden])")
    assert "Added 2 example(s) to how_to_pay"  # 3 messages, 2 distinct phrasings in result.text_content()
    assert "make validate && make retrain && make test-nlu, then make ship" in result.text_content()
    assert REPRESENTATIVE in how_to_pay_file(bot_copy).read_text()

    cluster.query_selector("[data-testid=training-intent-select]").select_option("payment_status")
    cluster.query_selector("[data-testid=training-teach-button]").click()
    error = page.wait_for_selector("[data-testid=training-error]:not([hidden])")
    assert "already an example of 'how_to_pay'" in error.text_content()
    page.click("[data-testid=training-refresh]")
    page.wait_for_selector("[data-testid=training-cluster]")
    assert errors == []
