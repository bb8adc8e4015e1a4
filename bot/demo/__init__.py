"""Demo data: the 국제생명 organisation of the article (``seed``) and the names, places and
conversations it is made of. Not used by the running app, only by ``milchak seed`` and tests."""
