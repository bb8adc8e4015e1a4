"""Intent confidences that mean something: DIET blended with a logistic regression.

DIET on a few thousand short sentences learns to be certain: it reports ~1.0 even when it is
wrong, so FallbackClassifier's threshold never fires. A logistic regression on the same sparse
features is weaker alone but calibrated, and errs on different sentences. Placed after DIET, this
component averages the two distributions (``diet_weight`` for DIET) and sets the intent from the
blend, so a sentence only one of them is sure about lands near 0.5, where the fallback can act.
DIET must report its whole ranking (``ranking_length: 0``) for the blend to see every intent.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack, vstack

from nlu.blending import blend, distribution


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class BlendedIntentClassifier(LogisticRegressionClassifier):
    """Logistic regression whose probabilities are averaged with the preceding DIET ranking."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Rasa's logistic regression defaults, more iterations, and DIET's share of the blend."""
        return {
            **LogisticRegressionClassifier.get_default_config(),
            "max_iter": 500,
            "diet_weight": 0.5,
        }

    def _create_X(self, messages: list[Message]) -> csr_matrix:
        """The messages' sparse sentence features as one matrix, in Rasa's featurizer order.

        Same matrix as the base class, which combines and stacks per message (a third of the
        parse time); this stacks each featurizer's block once per batch.
        """
        blocks = [_sentence_blocks(message) for message in messages]
        widths = {len(b) if b is not None else -1 for b in blocks}
        if len(widths) != 1 or widths == {-1}:
            return super()._create_X(messages)  # dense or uneven features: the general way
        columns = zip(*[b for b in blocks if b is not None], strict=True)
        return hstack([vstack(column) for column in columns]).tocsr()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Leave the training examples' gold intents alone (the base class overwrites them)."""
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Replace each message's intent and ranking by the blend of DIET and the regression."""
        if not messages or not hasattr(self.clf, "classes_"):
            return messages
        probabilities = self.clf.predict_proba(self._create_X(messages))
        weight = float(self.config["diet_weight"])
        limit = int(self.config["ranking_length"])
        for message, row in zip(messages, probabilities, strict=True):
            regression = {
                str(name): float(p) for name, p in zip(self.clf.classes_, row, strict=True)
            }
            diet = distribution(message.get(INTENT_RANKING_KEY) or [])
            ranking = [
                {"name": name, "confidence": confidence}
                for name, confidence in blend(diet, regression, weight if diet else 0.0)
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking[:limit] if limit > 0 else ranking, True)
        return messages


def _sentence_blocks(message: Message) -> list[Any] | None:
    """Each featurizer's sparse sentence features of the text; None if any are dense."""
    blocks = []
    for features in message.features:
        if features.attribute != TEXT or features.type != FEATURE_TYPE_SENTENCE:
            continue
        if not features.is_sparse():
            return None
        blocks.append(features.features)
    return blocks
