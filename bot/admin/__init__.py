"""The admin console: conversation logs, requests board, weekly report, review queue."""

from bot.admin.app import create_admin_app

__all__ = ["create_admin_app"]
