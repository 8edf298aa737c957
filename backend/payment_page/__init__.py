"""The secure payment page: short-lived, single-use, signed links where a customer enters a card
(straight to the processor), saves it, pays and turns on autopay; the chat learns the outcome from the
handoff service."""
