"""Reports on billing activity for a time range (the supervisor page of the handoff console, issue 17)."""
