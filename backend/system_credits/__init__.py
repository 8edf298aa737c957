"""Supervisors' oversight of the account check's credits (issue 18): review, reversal and run-time limits."""
