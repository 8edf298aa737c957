"""The trainers' loop: find what the bot handled badly, teach it new examples and intents, check,
train, compare and ship a model. Runs in `.venv/`; Rasa itself is only ever called as a subprocess
of `.venv-bot/`. Guide: docs/teaching-the-bot.md."""
