# Two commands on a fresh machine: `make run` and `make test`. Both bootstrap .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench audio clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/yoga-skill serve --dev

test: $(STAMP)
	$(BIN)/ruff check skill tests bench
	$(BIN)/ruff format --check skill tests bench
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check skill tests bench

format: $(STAMP)
	$(BIN)/ruff format skill tests bench
	$(BIN)/ruff check --fix skill tests bench

bench: $(STAMP)
	$(BIN)/python bench/run.py

audio: $(STAMP)
	$(BIN)/yoga-skill render-audio

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
