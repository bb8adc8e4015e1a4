"""Korean NLU for milchak: Rasa components (``nlu.components``) and pure normalisers.

The normalisers (``money``, ``dates``, ``relations``) depend only on the standard library so the
app can import them; only ``nlu.components`` needs Rasa and kiwipiepy.
"""
