"""Payment reminders end to end with real processes (issue 19): `run-billing-jobs --date` and the send loop
(`send-mail --once`, real SMTP to the development mail server) twice for the same day: Farid's reminders reach
the server once each; the past-due notice read back from the mail server: amount, date, signed pay link,
preference link, only his own account."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.backend.conftest import TODAY
from tests.backend.mail_support import REPO_ROOT, devmail_process

FARID = "farid.haddad@example.com"


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "backend.cli", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_reminders_reach_the_mail_server_once(tmp_path: Path) -> None:
    with devmail_process(tmp_path) as devmail:
        env = {**os.environ, "APP_ENV": "development",
               "BACKEND_DATABASE_URL": f"sqlite:///{tmp_path / 'billing.db'}",
               "MAIL_SMTP_PORT": str(devmail.smtp_port), "MAIL_SMTP_TIMEOUT_SECONDS": "5"}
        _cli(env, "migrate")
        _cli(env, "seed-demo", "--today", TODAY.isoformat())
        first = json.loads(_cli(env, "run-billing-jobs", "--date", TODAY.isoformat()).splitlines()[-1])
        assert first["reminder_past_due"] >= 1 and first["reminder_autopay_failed"] == 1, first
        sent = json.loads(_cli(env, "send-mail", "--once").splitlines()[-1])
        assert sent.get("sent", 0) >= 3, sent

        received = devmail.wait_for(3, to=FARID)
        assert sorted(message["subject"] for message in received) == [
            "Your account is past due",
            "Your automatic payment did not go through",
            "Your card on file expires soon",
        ]
        notice = next(message for message in received if message["subject"] == "Your account is past due")
        assert "$75.00 (invoice INV-2026-000605) is past due since February 23, 2026." in notice["text"]
        # The pay link is the reminder's own signed link (it makes a fresh secure payment page when opened;
        # tests/backend/test_reminder_pay_links.py opens it), not the chat's address.
        assert "Account: ACC-100006" in notice["text"]
        pay_link = re.search(r"Pay now: (http://127\.0\.0\.1:8000/reminders/pay/[\w.-]+)", notice["text"])
        assert pay_link is not None, notice["text"]
        assert f'href="{pay_link.group(1)}"' in notice["html"]
        headers = {name.lower(): value for name, value in notice["headers"].items()}
        assert "/mail/preferences/" in headers["list-unsubscribe"]
        assert headers["auto-submitted"] == "auto-generated"
        for other in ("Alice", "ACC-100001", "alice.moreno"):  # no one else's account in the mail
            assert other not in notice["text"] and other not in notice["html"]

        # The job again for the same day (the loop's next round, a restart), and the send loop again.
        again = json.loads(_cli(env, "run-billing-jobs", "--date", TODAY.isoformat()).splitlines()[-1])
        assert not [name for name in again if name.startswith("reminder_")], again
        _cli(env, "send-mail", "--once")
        assert len(devmail.messages(FARID)) == 3
