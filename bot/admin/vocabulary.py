"""The project's intent, request-kind and status names, shared by filters, forms and exports."""

from bot.db.models import OPEN_STATUSES as MODEL_OPEN_STATUSES
from bot.db.models import RequestKind, RequestStatus

INTENTS = (
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "cancel",
    "complaint",
    "suggest_service",
    "request_loan",
    "book_moving",
    "book_funeral",
    "book_wedding",
    "ask_policy",
    "contact_employee",
    "apply_card",
    "inform",
    "out_of_scope",
)
FALLBACK_INTENT = "nlu_fallback"
ALL_INTENTS = (*INTENTS, FALLBACK_INTENT)
REQUEST_KINDS = tuple(str(kind) for kind in RequestKind)
REQUEST_STATUSES = tuple(str(status) for status in RequestStatus)
OPEN_STATUSES = tuple(str(status) for status in MODEL_OPEN_STATUSES)
# Rasa's FallbackClassifier answers nlu_fallback below 0.5 (config.yml); turns a little above
# that are still worth a human look.
LOW_CONFIDENCE = 0.7
