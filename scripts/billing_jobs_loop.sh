#!/usr/bin/env bash
# Development stand-in for the daily cron / systemd timer / Kubernetes CronJob: runs the billing job for today
# every BILLING_JOBS_INTERVAL_SECONDS (default 300). Running it again for a day changes nothing.
set -u
interval="${BILLING_JOBS_INTERVAL_SECONDS:-300}"
while true; do
  .venv/bin/python -m backend.cli run-billing-jobs || echo "billing jobs failed; retrying in ${interval}s" >&2
  sleep "$interval"
done
