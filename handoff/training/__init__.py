"""Review and teach: the trainer's page in the specialist console (issue 6, steps 1-2)."""
