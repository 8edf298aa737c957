"""Conversations as Rasa would have stored them, for the review tests. Each turn is
("customer", text, intent, confidence[, entities]) or ("bot", text) or ("agent", text) (a live-chat
line written back by the handoff service). `write_tracker_store.py` turns them into real Rasa events
with Rasa's own SQLTrackerStore (in .venv-bot)."""

CONVERSATIONS: dict[str, list[tuple]] = {
    # NLU fell back: a new question (update the card), asked in several conversations.
    "conv-fallback-1": [
        ("customer", "hi", "greet", 0.99),
        ("bot", "Hi! I can help with your bill."),
        (
            "customer", "how do i update my card details", "nlu_fallback", 0.5, [],
            [("nlu_fallback", 0.5), ("how_to_pay", 0.41), ("payment_status", 0.2)],
        ),
        ("bot", "Sorry, I didn't get that. Could you rephrase?"),
    ],
    "conv-fallback-2": [
        (
            "customer", "How can I update my card details?", "nlu_fallback", 0.5, [],
            [("nlu_fallback", 0.5), ("how_to_pay", 0.38)],
        ),
        ("bot", "Sorry, I didn't get that. Could you rephrase?"),
        ("customer", "ok bye", "goodbye", 0.97),
    ],
    "conv-fallback-3": [
        (
            "customer", "update my card details please", "nlu_fallback", 0.5, [],
            [("nlu_fallback", 0.5), ("how_to_pay", 0.45)],
        ),
        ("bot", "Sorry, I didn't get that. Could you rephrase?"),
        (
            "customer", "do you sell gift cards", "nlu_fallback", 0.5, [],
            [("nlu_fallback", 0.5), ("out_of_scope", 0.3)],
        ),
        ("bot", "Sorry, I didn't get that. Could you rephrase?"),
    ],
    # Understood, but barely: below the review threshold 0.6, above the pipeline's fallback 0.5.
    "conv-low-confidence": [
        ("customer", "can i get an extension on my payment", "ask_due_date", 0.55),
        ("bot", "Your next bill is due on 2026-04-01."),
    ],
    # Understood with confidence, then the customer asked for a person: the first answer missed.
    "conv-then-human": [
        ("customer", "why was i charged twice for my payment", "payment_status", 0.91),
        ("bot", "Your last payment of $42.50 was posted on 2026-03-02."),
        ("customer", "/request_human", "request_human", 1.0),  # a button: not what was asked
        ("customer", "talk to a human", "request_human", 0.98),
        ("bot", "I'm connecting you with a billing specialist."),
        ("agent", "Hi, this is Dana. I see two payments, let me refund one."),
    ],
    # Rated 2: its real question is listed, the routine messages (thanks, the rating) are not.
    "conv-low-csat": [
        ("customer", "stop sending me paper bills", "out_of_scope", 0.88),
        ("bot", "Sorry, I can only help with billing questions."),
        ("customer", "thanks", "thank", 0.99),
        ("customer", '/rate_chat{"csat_score":"2"}', "rate_chat", 1.0, [("csat_score", "2")]),
        ("bot", "Thanks for your feedback."),
    ],
    # Rated 5 and understood: nothing to review.
    "conv-good": [
        ("customer", "how much do i owe", "check_balance", 0.98),
        ("bot", "You owe $42.50, due 2026-04-01."),
        ("customer", "what is this late fee", "explain_charge", 0.93),
        ("bot", "A late fee of $5.00 was added because the payment arrived after the due date."),
        ("customer", '/rate_chat{"csat_score":"5"}', "rate_chat", 1.0, [("csat_score", "5")]),
    ],
}

EXPECTED_REASONS = {
    "how do i update my card details": ["nlu_fallback"],
    "How can I update my card details?": ["nlu_fallback"],
    "update my card details please": ["nlu_fallback"],
    "do you sell gift cards": ["nlu_fallback"],
    "can i get an extension on my payment": ["low_confidence"],
    "why was i charged twice for my payment": ["then_asked_for_human"],
    "stop sending me paper bills": ["low_csat"],
}
