"""Rasa custom actions, served by the app at /actions/webhook.

rasa_sdk 3.6 cannot be installed on Python 3.11 and pins old libraries, so ``sdk.py`` speaks
Rasa's small action-server protocol directly.
"""
