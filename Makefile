# milchak — set-up, run, test. `make run` and `make test` do all the set-up they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
RASA_VENV := .venv-rasa
MODEL := models/milchak.tar.gz
RASA := PYTHONPATH=$(CURDIR) $(RASA_VENV)/bin/rasa
RASA_SOURCES := domain.yml config.yml $(shell find data nlu -name '*.yml' -o -name '*.py' 2>/dev/null)

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONUNBUFFERED := 1

.PHONY: setup system-deps secrets run test lint validate train eval nlu-gate db bench clean

setup: system-deps secrets $(VENV)/.installed $(RASA_VENV)/.installed $(MODEL) db

system-deps:
	@bash scripts/system-deps.sh

# Random tokens shared by the app and Rasa, and the console's session key, written into .env
# when it does not set them yet (never overwritten).
secrets:
	@$(PYTHON) scripts/ensure_secrets.py .env

$(VENV)/.installed: pyproject.toml
	@echo "==> app virtualenv ($(VENV))"
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install --progress-bar on -q -U pip
	@$(VENV)/bin/pip install --progress-bar on -e '.[dev]'
	@touch $@

# rasa 3.6 declares Python <3.11 but runs on 3.11; its numpy/scipy pins vanish on 3.11, hence the
# exact lock file (see ../shared/RASA-ON-THIS-MACHINE.md). matplotlib 3.5 builds against Debian's
# FreeType and Qhull because the source build cannot download its own.
$(RASA_VENV)/.installed: requirements-rasa.lock
	@echo "==> Rasa virtualenv ($(RASA_VENV)); the first install takes about 2 minutes"
	@test -d $(RASA_VENV) || $(PYTHON) -m venv $(RASA_VENV)
	@$(RASA_VENV)/bin/pip install -q -U pip wheel "setuptools==70.3.0"  # rasa needs pkg_resources
	@MPLSETUPCFG=$(CURDIR)/scripts/mplsetup.cfg $(RASA_VENV)/bin/pip install --progress-bar on \
		--ignore-requires-python --no-deps -r requirements-rasa.lock
	@touch $@

# Make's timestamps skip training when data, config and domain are unchanged.
$(MODEL): $(RASA_VENV)/.installed $(RASA_SOURCES)
	@echo "==> training the Rasa model"
	@mkdir -p models
	@time $(RASA) train --fixed-model-name milchak --out models --num-threads 2

train: $(MODEL)

db: $(VENV)/.installed
	@$(VENV)/bin/milchak db upgrade
	@$(VENV)/bin/milchak seed --demo

run: setup
	@$(VENV)/bin/milchak run

validate: $(RASA_VENV)/.installed
	@$(RASA) data validate --fail-on-warnings

lint: $(VENV)/.installed
	@$(VENV)/bin/ruff check bot nlu tests bench scripts
	@$(VENV)/bin/ruff format --check bot nlu tests bench scripts
	@$(VENV)/bin/mypy

test: setup validate lint nlu-gate
	@$(VENV)/bin/python -m pytest -ra

# Held-out scores of the trained model, Rasa's own held-out report and 5-fold cross-validation
# on data/nlu; reports land in reports/.
eval: setup
	@$(VENV)/bin/python scripts/eval_nlu.py --model $(MODEL) --rasa-test --cross-validation --folds 5

# Fast gate on the held-out set with the trained model (never retrains): intent macro-F1 >= 0.93
# and normalised-value exact match >= 0.95.
nlu-gate: $(VENV)/.installed $(MODEL)
	@$(VENV)/bin/python scripts/eval_nlu.py --model $(MODEL) --gate

bench: setup
	@$(VENV)/bin/python -m bench.latency

clean:
	rm -rf $(VENV) $(RASA_VENV) models .stamps milchak.db milchak-trackers.db .rasa
