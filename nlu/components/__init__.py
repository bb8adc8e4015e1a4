"""Rasa graph components (imported only inside the Rasa virtualenv)."""
