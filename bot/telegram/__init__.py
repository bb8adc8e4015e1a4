"""Telegram surface: the Application factory, policyholder handlers, rendering."""
