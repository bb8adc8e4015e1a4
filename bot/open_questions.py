"""Which bot actions leave a question open outside a form (standard library only).

A bare 네 / 아니요, a wish or the kind of a partner service is read as the answer to the
bot's previous action when ``pending_offer`` is set and that action is one of these
(``bot.actions.conversation``). Rasa's tracker store (``bot.rasa_tracker_store``) reads the same
sets to leave such a conversation alone: a new session would drop the previous action and with
it the question. Both virtualenvs import this module, so it imports nothing.
"""

# Actions whose offer a 네 / 아니요 answers (call-back, card, passing a question on).
OFFER_ACTIONS = frozenset(
    {"action_offer_callback", "action_offer_card", "action_fallback", "action_answer_policy"}
)
# Actions that may leave a question pending_offer answers (a wish, the kind of service).
CONTEXT_ACTIONS = frozenset(
    {"action_record_suggestion", "action_inform", "action_fallback", "action_answer_policy"}
)
# Rasa's own steps, not what the bot did in a turn.
SKIPPED_ACTIONS = frozenset({"action_listen", "action_extract_slots", "action_session_start"})


def question_open(pending_offer: object, last_action: str | None) -> bool:
    """Whether the customer's next message may be read as the answer to the bot's last one."""
    return bool(pending_offer) and last_action in OFFER_ACTIONS | CONTEXT_ACTIONS
