"""The project's own Rasa graph components (referenced from config.yml by module path)."""
