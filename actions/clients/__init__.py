"""Typed async HTTP clients for the backend and the handoff service."""
