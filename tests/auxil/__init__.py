"""Test helpers: databases, fake Telegram Bot API, Rasa process."""
