"""Outbound email (issue 19): an outbox table, templates, an SMTP sender with retry
(docs/contracts.md, "Email")."""
