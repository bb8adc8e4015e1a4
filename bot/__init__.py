"""milchak — the app: Telegram bot, Rasa action server, admin console and jobs."""
