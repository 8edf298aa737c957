"""Email as a conversation channel (issue 19): inbound webhooks, parsing, threading, answers by email."""
