"""Database models, engine set-up, migrations and repositories."""
