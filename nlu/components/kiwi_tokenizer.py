"""Rasa tokenizer for Korean built on Kiwi (kiwipiepy), modelled on Rasa's ``JiebaTokenizer``.

Kiwi returns morphemes whose forms are not always substrings of the text (``ᆫ데``, ``었``) and
whose spans can overlap (했 → 하 + 었). Tokens are therefore cut from the text by Kiwi's
``start``/``len`` offsets, overlapping morphemes merged into one token; the token's lemma is the
morpheme forms, so 했어요 and 하였어요 share features.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.lexicon import DOMAIN_WORDS

if TYPE_CHECKING:
    from kiwipiepy import Kiwi

logger = logging.getLogger(__name__)

_WORDS_FILE = "user_words.json"
_WARM_UP = "이달30일 우리아빠 이사하는데 약관대출도 받고 싶어요"
UserWords = tuple[tuple[str, str], ...]


@lru_cache(maxsize=4)
def kiwi_with(user_words: UserWords) -> Kiwi:
    """One Kiwi per process and dictionary: loading the model takes about a second."""
    from kiwipiepy import Kiwi

    kiwi = Kiwi()
    for word, tag in user_words:
        kiwi.add_user_word(word, tag, 0.0)
    return kiwi


def merge_morphemes(text: str, morphemes: list[tuple[str, int, int]]) -> list[Token]:
    """Rasa tokens from ``(form, start, length)`` morphemes, merging those that overlap."""
    tokens: list[Token] = []
    start = end = -1
    forms: list[str] = []
    for form, m_start, length in sorted(morphemes, key=lambda m: (m[1], -m[2])):
        if length <= 0:  # an inserted morpheme with no surface of its own
            if forms:
                forms.append(form)
            continue
        m_end = m_start + length
        if forms and m_start < end:
            end = max(end, m_end)
            forms.append(form)
            continue
        if forms:
            tokens.append(Token(text[start:end], start, end, lemma="".join(forms)))
        start, end, forms = m_start, m_end, [form]
    if forms:
        tokens.append(Token(text[start:end], start, end, lemma="".join(forms)))
    return tokens


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class KiwiTokenizer(Tokenizer):
    """Korean morpheme tokenizer with a domain user dictionary (``nlu/lexicon.py``)."""

    @staticmethod
    def supported_languages() -> list[str] | None:
        """Korean only."""
        return ["ko"]

    @staticmethod
    def required_packages() -> list[str]:
        """Kiwi and its model."""
        return ["kiwipiepy"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Same options as Rasa's other tokenizers."""
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        user_words: UserWords = DOMAIN_WORDS,
    ) -> None:
        """Keep the dictionary this model is trained (or was trained) with, and ready Kiwi."""
        super().__init__(config)
        self._model_storage = model_storage
        self._resource = resource
        self._user_words = user_words
        # Kiwi loads its model and builds the dictionary on first use (about 5 s here): pay that
        # while the model loads, not on a policyholder's first message.
        kiwi_with(user_words).tokenize(_WARM_UP)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> KiwiTokenizer:
        """A tokenizer with the current domain dictionary."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> KiwiTokenizer:
        """A tokenizer with the dictionary stored in the model, so parsing matches training."""
        try:
            with model_storage.read_from(resource) as directory:
                raw = json.loads((directory / _WORDS_FILE).read_text(encoding="utf-8"))
            words: UserWords = tuple((str(w), str(t)) for w, t in raw)
        except (ValueError, FileNotFoundError):
            logger.debug("No stored user dictionary for %s; using nlu.lexicon.", resource.name)
            words = DOMAIN_WORDS
        return cls(config, model_storage, resource, words)

    def train(self, training_data: TrainingData) -> Resource:
        """Store the user dictionary in the model."""
        with self._model_storage.write_to(self._resource) as directory:
            (directory / _WORDS_FILE).write_text(
                json.dumps(list(self._user_words), ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Morpheme tokens of ``message``'s ``attribute``, cut at Kiwi's offsets."""
        text: str = message.get(attribute)
        morphemes = [(m.form, m.start, m.len) for m in kiwi_with(self._user_words).tokenize(text)]
        return self._apply_token_pattern(merge_morphemes(text, morphemes))
