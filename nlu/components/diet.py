"""DIET that loads in seconds: its variables are built by an eager step, not a traced one.

Rasa's ``RasaModel.load`` builds the model's variables by running one Keras ``fit`` step on a
dummy example, then overwrites them with the trained weights. That step is traced into a
TensorFlow graph first, and the trace is thrown away at once: on this model it was ~16 s of a
26 s ``Agent.load`` on an idle machine and over a minute on a busy one (cProfile, stop 19).
Running the throwaway step eagerly builds the same variables in about a second; prediction is
still traced once and runs as a graph, so parses are as fast as before and give the same result.
Every Rasa (re)start waits for this load, so it decides how soon a crashed Rasa answers again.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIET, DIETClassifier
from rasa.utils.tensorflow.constants import LEARNING_RATE
from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator
from rasa.utils.tensorflow.model_data import RasaModelData


class EagerlyBuiltDIET(DIET):
    """Rasa's DIET network, loaded without tracing the training step it never uses."""

    @classmethod
    def load(
        cls,
        model_file_name: str,
        model_data_example: RasaModelData,
        predict_data_example: RasaModelData | None = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> DIET:
        """``RasaModel.load`` with the variable-building step run eagerly."""
        if finetune_mode:  # further training needs the traced step anyway
            return super().load(
                model_file_name, model_data_example, predict_data_example, True, *args, **kwargs
            )
        model = cls(*args, **kwargs)
        learning_rate = kwargs.get("config", {}).get(LEARNING_RATE, 0.001)
        model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate), run_eagerly=True)
        model.fit(RasaBatchDataGenerator(model_data_example, batch_size=1), verbose=False)
        model.load_weights(model_file_name)
        model.run_eagerly = False  # predictions run as a traced graph, as in Rasa's own load
        if predict_data_example:
            model.run_inference(predict_data_example)  # trace prediction now, not on a customer
        return model


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    ],
    is_trainable=True,
)
class FastLoadingDIETClassifier(DIETClassifier):
    """Rasa's ``DIETClassifier``, trained the same way, whose model loads eagerly built."""

    @staticmethod
    def model_class() -> type[DIET]:
        """The network class ``load`` builds."""
        return EagerlyBuiltDIET
