class TrainerError(Exception):
    """A problem the trainer can fix; the command prints the message, never a stack trace."""
