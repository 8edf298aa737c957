"""Payment reminders (issue 19, "Outreach on time"): sent once each by the billing job."""
