"""Custom actions of the billing assistant (served by rasa-sdk on port 5055)."""
