"""Development mail server (issue 19): an aiosmtpd SMTP server that keeps every message it receives and a
small HTTP page to read them (docs/contracts.md, "Email"). Development and tests only: it binds 127.0.0.1."""
