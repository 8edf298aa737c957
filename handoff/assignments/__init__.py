"""What a specialist does with a chat, one use case a module: claim, release, transfer, agent_message,
agent_typing, settle_dispute, resolve. Each checks ownership (ownership.py), runs one transaction through
handoff/conversations/store, and hands the returned Change to handoff/notifier.py."""
