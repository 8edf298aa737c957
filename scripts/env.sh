# Development defaults for every service (docs/contracts.md). Sourced by make targets;
# a value already in the environment wins, so production sets its own.
export APP_ENV="${APP_ENV:-development}"
export BACKEND_URL="${BACKEND_URL:-http://127.0.0.1:8000}"
export BACKEND_DATABASE_URL="${BACKEND_DATABASE_URL:-sqlite:///var/backend.db}"
export BACKEND_API_TOKEN="${BACKEND_API_TOKEN:-dev-backend-token}"
export HANDOFF_URL="${HANDOFF_URL:-http://127.0.0.1:8080}"
export HANDOFF_DATABASE_URL="${HANDOFF_DATABASE_URL:-sqlite:///var/handoff.db}"
export HANDOFF_API_TOKEN="${HANDOFF_API_TOKEN:-dev-handoff-token}"
export CUSTOMER_JWT_SECRET="${CUSTOMER_JWT_SECRET:-dev-customer-jwt-secret}"
export RASA_URL="${RASA_URL:-http://127.0.0.1:5005}"
export RASA_AUTH_TOKEN="${RASA_AUTH_TOKEN:-dev-rasa-token}"
export RASA_CHANNEL_TOKEN="${RASA_CHANNEL_TOKEN:-dev-rasa-channel-token}"
export ACTION_SERVER_TOKEN="${ACTION_SERVER_TOKEN:-dev-action-server-token}"
export IDENTITY_ASSERTION_SECRET="${IDENTITY_ASSERTION_SECRET:-dev-identity-assertion-secret-not-for-production}"
export RASA_TRACKER_SQLITE="${RASA_TRACKER_SQLITE:-var/rasa_tracker.db}"
export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:-http://127.0.0.1:5055/webhook}"
export BACKEND_PORT="${BACKEND_PORT:-8000}" ACTIONS_PORT="${ACTIONS_PORT:-5055}"
export RASA_PORT="${RASA_PORT:-5005}" HANDOFF_PORT="${HANDOFF_PORT:-8080}"
# Email (issue 19): the development mail server and how often the send loop runs.
export DEVMAIL_SMTP_PORT="${DEVMAIL_SMTP_PORT:-1025}" DEVMAIL_HTTP_PORT="${DEVMAIL_HTTP_PORT:-8025}"
export MAIL_SEND_INTERVAL_SECONDS="${MAIL_SEND_INTERVAL_SECONDS:-5}"
# Quieter TensorFlow; no telemetry calls from a machine that has no internet.
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
# TensorFlow without its oneDNN kernels: DIET trains ~15-25 % faster on these CPUs, parses no slower, and the
# model scores the same on every evaluation set (bench/results/training.md, session 14).
export TF_ENABLE_ONEDNN_OPTS="${TF_ENABLE_ONEDNN_OPTS:-0}"
export RASA_TELEMETRY_ENABLED=false
# rasa-sdk's action server binds SANIC_HOST (its default is every interface): loopback only.
export SANIC_HOST="${SANIC_HOST:-127.0.0.1}"
