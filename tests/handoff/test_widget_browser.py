"""The customer widget in Debian's chromium (issue 17): the server's message limit, a phone screen, stale
quick replies, and one queue position and wait for the bot and the status banner."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from playwright.sync_api import expect

from actions.clients.handoff import EscalationResult
from actions.escalation import queued_reply
from handoff.queue.ordering import wait_in_words
from tests.handoff.conftest import API_TOKEN
from tests.support.axe import blocking_violations
from tests.support.browser import chromium
from tests.support.demo_page import pick_demo_customer, sign_in_to_console

DAVID = 4
STORAGE_KEY = f"acme-chat:customer-{DAVID}"
SERVER_LIMIT = 120  # not the default 2,000: the widget must learn the limit from the server


@pytest.fixture
def browser():
    with chromium() as browser:
        yield browser


def open_chat(browser, url: str, **context_options):
    context = browser.new_context(**context_options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url + "/")
    pick_demo_customer(page, DAVID, "David")
    page.click("[data-testid=chat-launcher]")
    page.wait_for_selector("[data-testid=chat-connection][data-state=connected]")
    return page, errors


def send(page, text: str) -> None:
    page.fill("[data-testid=chat-input]", text)
    page.click("[data-testid=chat-send]")


def dana_does(url: str, conversation_id: str, action: str, body: dict) -> None:
    """Dana (a demo specialist) claims the queued chat through the console API, then does `action`."""
    with httpx.Client(base_url=url, timeout=20) as dana:
        login = dana.post("/api/console/login", json={"username": "dana", "password": "dana-demo-pass"})
        dana.headers["Authorization"] = f"Bearer {login.json()['token']}"
        dana.post(f"/api/console/conversations/{conversation_id}/claim").raise_for_status()
        dana.post(f"/api/console/conversations/{conversation_id}/{action}", json=body).raise_for_status()


def saved_outbox(page) -> list:
    return json.loads(page.evaluate(f"localStorage.getItem('{STORAGE_KEY}')") or "{}").get("outbox", [])


@pytest.mark.browser
def test_the_input_enforces_the_servers_limit_and_a_refused_message_comes_back(make_handoff, browser,
                                                                                stand_in):
    handoff = make_handoff(extra_env={"HANDOFF_CHAT_MAX_MESSAGE_CHARS": str(SERVER_LIMIT)})
    page, errors = open_chat(browser, handoff.url)
    counter = page.locator("[data-testid=chat-char-count]")
    expect(counter).to_be_visible()
    expect(counter).to_have_text(f"0/{SERVER_LIMIT}")
    page.fill("[data-testid=chat-input]", "x" * (SERVER_LIMIT + 30))
    assert len(page.input_value("[data-testid=chat-input]")) == SERVER_LIMIT
    expect(counter).to_have_text(f"{SERVER_LIMIT}/{SERVER_LIMIT}")

    # A message over the limit written before the widget knew it (an older page's outbox) reaches the server.
    too_long = "Please explain my bill " + "y" * SERVER_LIMIT
    page.evaluate(f"""(() => {{ const saved = JSON.parse(localStorage.getItem('{STORAGE_KEY}'));
        saved.outbox = [{{client_id: 'too-long-1', text: {json.dumps(too_long)}}}];
        localStorage.setItem('{STORAGE_KEY}', JSON.stringify(saved)); }})()""")
    page.reload()
    page.wait_for_selector("[data-testid=chat-connection][data-state=connected]")
    expect(page.locator("[data-testid=chat-notice]")).to_contain_text("too long")
    expect(page.locator("[data-testid=chat-input]")).to_have_value(too_long)  # its text is given back
    expect(page.locator("[data-testid=chat-message][data-status=pending]")).to_have_count(0)
    expect(page.locator("[data-testid=chat-message][data-client-id=too-long-1]")).to_have_count(0)
    expect(page.locator("[data-testid=chat-send]")).to_be_disabled()  # still too long: shorten it first
    assert saved_outbox(page) == []

    echo = "[data-testid=chat-message][data-sender=bot] >> text=Echo: hello after the refusal"
    send(page, "hello after the refusal")
    page.wait_for_selector(echo)
    last = page.locator("[data-testid=chat-message]").last
    expect(last).to_have_attribute("data-sender", "bot")  # later messages go below, not above a stuck bubble

    page.reload()  # not sent again
    page.wait_for_selector("[data-testid=chat-connection][data-state=connected]")
    page.wait_for_selector(echo)
    expect(page.locator("[data-testid=chat-notice]")).to_be_hidden()
    assert [m["message"] for m in stand_in.rasa_messages] == ["hello after the refusal"]
    assert not [e for e in errors if "Uncaught" in e], errors


@pytest.mark.browser
def test_on_a_phone_the_page_fits_and_the_chat_opens_full_screen(handoff, browser):
    width, height = 375, 740
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(handoff.url + "/")
    pick_demo_customer(page, DAVID, "David")  # the picker's long option texts must not widen the page
    assert page.evaluate("document.documentElement.scrollWidth") == width
    launcher = page.locator("[data-testid=chat-launcher]").bounding_box()
    assert launcher and launcher["x"] >= 0 and launcher["x"] + launcher["width"] <= width
    assert launcher["y"] >= 0 and launcher["y"] + launcher["height"] <= height
    page.click("[data-testid=chat-launcher]")
    page.wait_for_selector("[data-testid=chat-connection][data-state=connected]")
    panel = page.locator("[data-testid=chat-panel]").bounding_box()
    assert panel == {"x": 0, "y": 0, "width": width, "height": height}
    send_box = page.locator("[data-testid=chat-send]").bounding_box()
    assert send_box and send_box["x"] + send_box["width"] <= width
    assert send_box["y"] + send_box["height"] <= height
    assert page.evaluate("document.documentElement.scrollWidth") == width
    assert blocking_violations(page) == []


@pytest.mark.browser
def test_buttons_of_an_answered_question_are_disabled(handoff, browser, stand_in):
    page, errors = open_chat(browser, handoff.url)
    buttons = page.locator("[data-testid=chat-button]")
    send(page, "show me the menu")
    expect(buttons).to_have_count(2)
    expect(page.locator("[data-testid=chat-button]:enabled")).to_have_count(2)
    page.click("[data-testid=chat-button]:has-text('Activation fee')")
    page.wait_for_selector("[data-testid=chat-message][data-sender=bot] >> text=Echo: /explain_charge")
    expect(page.locator("[data-testid=chat-button]:enabled")).to_have_count(0)  # both messages' buttons

    send(page, "show me the menu")  # a new question: only its buttons are live
    expect(buttons).to_have_count(4)
    expect(page.locator("[data-testid=chat-button]:enabled")).to_have_count(2)
    send(page, "never mind, I typed an answer")
    page.wait_for_selector("[data-testid=chat-message][data-sender=bot] >> text=Echo: never mind")
    expect(page.locator("[data-testid=chat-button]:enabled")).to_have_count(0)

    page.reload()  # replayed from the server: still answered
    page.wait_for_selector("[data-testid=chat-connection][data-state=connected]")
    expect(buttons).to_have_count(4)
    expect(page.locator("[data-testid=chat-button]:enabled")).to_have_count(0)

    # A stale payload that still reaches the server (an old tab) is refused politely and not stored.
    page.evaluate("window.acmeChatWidget.send('Activation fee', '/explain_charge{\"line_item_id\": \"42\"}')")
    expect(page.locator("[data-testid=chat-notice]")).to_contain_text("isn't available any more")
    assert [m["message"] for m in stand_in.rasa_messages].count('/explain_charge{"line_item_id": "42"}') == 1
    assert not [e for e in errors if "Uncaught" in e], errors


@pytest.mark.browser
def test_a_link_button_opens_in_a_new_tab_and_only_http_links_are_kept(handoff, browser, stand_in):
    page, errors = open_chat(browser, handoff.url)
    send(page, "update my card")
    link = page.locator("[data-testid=chat-link-button]")
    expect(link).to_have_count(1)  # the javascript: one is dropped by the handoff service
    expect(link).to_have_text("Open the secure payment page")
    assert link.get_attribute("href") == "http://127.0.0.1:9/pay/abc"
    assert link.get_attribute("target") == "_blank" and "noopener" in (link.get_attribute("rel") or "")
    expect(page.locator("[data-testid=chat-button]")).to_have_count(0)  # a link is not a message button
    assert not [e for e in errors if "Uncaught" in e], errors


@pytest.mark.browser
def test_the_bot_and_the_status_banner_state_the_same_position_and_wait(make_handoff, browser):
    # A short default handling time: the wait is under a minute, where the two wordings used to differ.
    handoff = make_handoff(extra_env={"HANDOFF_DEFAULT_HANDLING_SECONDS": "30"})
    page, errors = open_chat(browser, handoff.url)
    conversation_id = page.get_attribute("[data-testid=chat-widget]", "data-conversation-id")
    answer = httpx.post(f"{handoff.url}/api/escalations", headers={"Authorization": f"Bearer {API_TOKEN}"},
                        json={"conversation_id": conversation_id, "reason": "request_human",
                              "customer_id": DAVID, "summary": "Asked for a person."}, timeout=20)
    answer.raise_for_status()
    bot = queued_reply(EscalationResult.model_validate(answer.json()))  # what the bot's message states
    page.wait_for_selector("[data-testid=chat-status][data-state=queued]")
    expect(page.locator("[data-testid=chat-queue-position]")).to_contain_text(f"number {bot['position']} ")
    expect(page.locator("[data-testid=chat-eta]")).to_have_text(f"Expected wait: {bot['wait']}.")
    assert not [e for e in errors if "Uncaught" in e], errors


@pytest.mark.parametrize(("eta_seconds", "words"), [
    (0, "less than a minute"), (59, "less than a minute"), (60, "about 1 minute"), (89, "about 1 minute"),
    (90, "about 2 minutes"), (150, "about 3 minutes"), (600, "about 10 minutes"), (3600, "about 1 hour"),
    (9000, "about 3 hours"),
])
def test_the_wait_in_words_rounds_half_up(eta_seconds, words):
    assert wait_in_words(eta_seconds) == words


@pytest.mark.browser
def test_the_open_chat_is_an_accessible_dialog(handoff, browser, stand_in):
    page, errors = open_chat(browser, handoff.url)
    panel = page.locator("[data-testid=chat-panel]")
    expect(panel).to_have_attribute("role", "dialog")
    expect(page.get_by_role("dialog", name="Acme Billing chat")).to_be_visible()
    send(page, "show me the menu")
    page.wait_for_selector("[data-testid=chat-button]")
    messages = page.locator("[data-testid=chat-message]")
    expect(messages.last.locator("[data-testid=chat-message-speaker]")).to_have_text("Acme assistant:")
    customer = page.locator("[data-testid=chat-message][data-sender=customer][data-status=sent]")
    expect(customer.locator("[data-testid=chat-message-speaker]")).to_have_text("You:")
    count = messages.count()
    expect(page.locator("[data-testid=chat-message] [data-testid=chat-message-speaker]")).to_have_count(count)
    expect(page.locator("[data-testid=chat-message] [data-testid=chat-message-time]")).to_have_count(count)
    # A bubble on its way (not acked yet) is readable too: it was a faded 3.2:1 (AA wants 4.5:1).
    page.evaluate("window.acmeChatWidget.renderPending({client_id: 'on-its-way', text: 'on its way'})")
    assert blocking_violations(page) == []
    page.evaluate("window.acmeChatWidget.refuse('on-its-way')")

    page.keyboard.press("Escape")  # closes the panel; focus goes back to the launcher
    expect(panel).to_be_hidden()
    expect(page.locator("[data-testid=chat-launcher]")).to_be_focused()
    badge = page.locator("[data-testid=chat-unread]")
    expect(badge).to_be_hidden()
    page.evaluate("window.acmeChatWidget.send('still there?', null)")  # the bot answers while it is closed
    expect(badge).to_have_text("1")
    assert page.title().startswith("(1) ")
    assert blocking_violations(page) == []
    page.click("[data-testid=chat-launcher]")
    expect(badge).to_be_hidden()
    assert not page.title().startswith("(")
    assert page.locator("link[rel=icon]").get_attribute("href") == "/static/favicon.svg"
    assert not [e for e in errors if "Uncaught" in e], errors


@pytest.mark.browser
def test_the_assistant_shows_it_is_typing_and_times_are_grouped(handoff, browser, stand_in):
    stand_in.slow_seconds = 2.0
    page, errors = open_chat(browser, handoff.url)
    send(page, "slow")
    typing = page.locator("[data-testid=chat-typing][data-sender=bot]")
    expect(typing).to_be_visible()
    expect(typing).to_have_text("The assistant is typing…")
    page.wait_for_selector("[data-testid=chat-message][data-sender=bot] >> text=Echo: slow")
    expect(typing).to_be_hidden()

    send(page, "show me the menu")  # two bot messages in the same minute: one time, under the second
    expect(page.locator("[data-testid=chat-button]")).to_have_count(2)
    question = page.locator("[data-testid=chat-message][data-sender=bot]:has([data-testid=chat-button])")
    expect(question.nth(0).locator("[data-testid=chat-message-time]")).to_be_hidden()
    expect(question.nth(1).locator("[data-testid=chat-message-time]")).to_be_visible()
    assert not [e for e in errors if "Uncaught" in e], errors


@pytest.mark.browser
def test_a_counted_rating_cannot_be_pressed_again(handoff, browser, stand_in):
    page, errors = open_chat(browser, handoff.url)
    conversation_id = page.get_attribute("[data-testid=chat-widget]", "data-conversation-id")
    send(page, "I want to dispute this")
    page.wait_for_selector("[data-testid=chat-status][data-state=queued]")
    dana_does(handoff.url, conversation_id, "resolve", {"outcome": "explained"})
    ratings = page.locator("[data-testid=chat-button][data-payload^='/rate_chat']")
    expect(ratings).to_have_count(5)
    expect(page.locator("[data-testid=chat-button]:enabled")).to_have_count(5)
    page.click("[data-testid=chat-button] >> text=4")
    page.wait_for_selector("[data-testid=chat-message][data-sender=bot] >> text=Thanks for your rating!")
    expect(page.locator("[data-testid=chat-button]:enabled")).to_have_count(0)
    page.reload()
    page.wait_for_selector("[data-testid=chat-message][data-sender=bot] >> text=Thanks for your rating!")
    expect(ratings).to_have_count(5)
    expect(page.locator("[data-testid=chat-button]:enabled")).to_have_count(0)
    assert [m["message"] for m in stand_in.rasa_messages if m["message"].startswith("/rate_chat")] == [
        '/rate_chat{"csat_score":"4"}']
    assert not [e for e in errors if "Uncaught" in e], errors


@pytest.mark.browser
def test_messages_written_while_the_chat_is_closed_badge_the_launcher_after_a_reload(handoff, browser):
    page, errors = open_chat(browser, handoff.url)
    conversation_id = page.get_attribute("[data-testid=chat-widget]", "data-conversation-id")
    send(page, "I want to dispute this")
    page.wait_for_selector("[data-testid=chat-status][data-state=queued]")
    page.wait_for_selector("[data-testid=chat-message][data-sender=bot] >> text=passed this to a billing")
    page.keyboard.press("Escape")
    page.reload()  # closed, and what was on screen stays read
    pick_demo_customer(page, DAVID, "David")
    expect(page.locator("[data-testid=chat-panel]")).to_be_hidden()
    widget = page.locator("[data-testid=chat-widget]")
    expect(widget).to_have_attribute("data-conversation-id", conversation_id)  # connected while closed
    badge = page.locator("[data-testid=chat-unread]")
    expect(badge).to_be_hidden()
    dana_does(handoff.url, conversation_id, "messages", {"text": "Hello David, I'm looking at it."})
    expect(badge).to_have_text("2")  # "Dana from Billing has joined" and her message
    assert page.title().startswith("(2) ")
    page.click("[data-testid=chat-launcher]")
    expect(badge).to_be_hidden()
    page.wait_for_selector("[data-testid=chat-message][data-sender=agent] >> text=looking at it")
    page.keyboard.press("Escape")
    page.reload()  # seen: no badge again
    pick_demo_customer(page, DAVID, "David")
    expect(widget).to_have_attribute("data-conversation-id", conversation_id)
    expect(page.locator("[data-testid=chat-message][data-sender=agent]")).to_have_count(1)  # replayed
    expect(badge).to_be_hidden()
    assert not [e for e in errors if "Uncaught" in e], errors


@pytest.mark.browser
def test_times_are_relative_and_grouped_and_follow_the_clock(handoff, browser, stand_in):
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.clock.install()  # the page's clock, moved forward below (it runs on from the real time)
    page.goto(handoff.url + "/")
    pick_demo_customer(page, DAVID, "David")
    page.click("[data-testid=chat-launcher]")
    page.wait_for_selector("[data-testid=chat-connection][data-state=connected]")
    send(page, "hello")
    page.wait_for_selector("[data-testid=chat-message][data-sender=bot] >> text=Echo: hello")
    mine = page.locator("[data-testid=chat-message][data-sender=customer]").last
    time = mine.locator("[data-testid=chat-message-time]")
    expect(time).to_have_text("just now")
    page.clock.fast_forward("02:10")
    expect(time).to_have_text("2 min ago")
    page.clock.fast_forward("59:00")  # over an hour: the time of day
    expect(time).to_have_text(re.compile(r"^\d{1,2}:\d{2}( ?[AP]M)?$"))
    assert time.get_attribute("datetime")

    # Grouped: a speaker's consecutive messages, each within a minute of the one before, share one label.
    now = page.evaluate("Date.now()")
    for seq, seconds_ago in ((9001, 200), (9002, 170), (9003, 20)):
        created = page.evaluate(f"new Date({now} - {seconds_ago * 1000}).toISOString()")
        page.evaluate("frame => window.acmeChatWidget.renderMessage(frame)",
                      {"seq": seq, "sender": "agent", "agent_name": "Dana", "text": f"note {seq}",
                       "buttons": [], "created_at": created})
    times = [page.locator(f"[data-testid=chat-message][data-seq='{seq}'] [data-testid=chat-message-time]")
             for seq in (9001, 9002, 9003)]
    expect(times[0]).to_be_hidden()  # 30 s before the next one: the group's label is under 9002
    expect(times[1]).to_have_text("2 min ago")
    expect(times[1]).to_be_visible()  # 150 s before the next one: a new group
    expect(times[2]).to_have_text("just now")
    assert not [e for e in errors if "Uncaught" in e], errors


@pytest.mark.browser
def test_own_messages_are_sent_then_read_when_a_specialist_opens_the_chat(handoff, browser):
    page, errors = open_chat(browser, handoff.url)
    send(page, "I want to dispute this")
    page.wait_for_selector("[data-testid=chat-status][data-state=queued]")
    first = page.locator("[data-testid=chat-message][data-sender=customer]").first
    expect(first.locator("[data-testid=chat-message-receipt]")).to_have_text("Sent")
    expect(first).to_have_attribute("data-status", "sent")

    console = browser.new_context().new_page()
    sign_in_to_console(console, handoff.url, "dana", "dana-demo-pass")
    console.wait_for_selector("[data-testid=console-connection][data-state=connected]")
    console.wait_for_selector("[data-testid=queue-item]")
    expect(first.locator("[data-testid=chat-message-receipt]")).to_have_text("Sent")  # queued, not open yet
    console.click("[data-testid=queue-claim]")
    console.wait_for_selector("[data-testid=conversation-view][data-state=assigned]")
    expect(first.locator("[data-testid=chat-message-receipt]")).to_have_text("Read")
    expect(first).to_have_attribute("data-status", "read")

    send(page, "are you there?")  # arrives while Dana has the chat open
    console.wait_for_selector("[data-testid=transcript-message][data-sender=customer] >> text=are you there?")
    mine = page.locator("[data-testid=chat-message][data-sender=customer]")
    expect(mine).to_have_count(2)
    expect(mine.last.locator("[data-testid=chat-message-receipt]")).to_have_text("Read")
    page.reload()  # seen but not answered yet: still read after a reload (the read position is stored)
    page.wait_for_selector("[data-testid=chat-connection][data-state=connected]")
    expect(mine).to_have_count(2)
    expect(mine.locator("[data-testid=chat-message-receipt]")).to_have_text(["Read", "Read"])

    console.fill("[data-testid=agent-input]", "Yes, I'm here.")
    console.click("[data-testid=agent-send]")
    page.wait_for_selector("[data-testid=chat-message][data-sender=agent] >> text=I'm here")
    page.reload()  # replayed: what Dana answered stays read
    page.wait_for_selector("[data-testid=chat-connection][data-state=connected]")
    page.wait_for_selector("[data-testid=chat-message][data-sender=agent] >> text=I'm here")
    expect(mine.locator("[data-testid=chat-message-receipt]")).to_have_text(["Read", "Read"])
    assert not [e for e in errors if "Uncaught" in e], errors
