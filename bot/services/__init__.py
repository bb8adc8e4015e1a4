"""Business logic as plain async functions over a session: no Telegram, no HTTP."""
