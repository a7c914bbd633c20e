# Two commands on a fresh machine: `make run` and `make test`. Both bootstrap .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench audio audio-check clean build-YogaFunction phrasings package chromium lighthouse

# cairosvg (the publish extra: it draws the skill's icon) needs the cairo library, from Debian.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/python -c 'import cairosvg' 2>/dev/null || \
		(apt-get update -qq && apt-get install -y -qq libcairo2)
	touch $(STAMP)

# `make run` keeps this checkout's own runner's progress in a git-ignored file, so a fresh clone
# starts afresh; the installed command keeps $XDG_DATA_HOME/post-run-yoga/progress.sqlite3.
YOGA_DB ?= $(CURDIR)/instance/progress.sqlite3

run: $(STAMP)
	YOGA_DB="$(YOGA_DB)" $(BIN)/yoga-skill serve --dev

# virtual-alexa (npm) drives the running webhook with the skill's own interaction models.
VA_DIR := tests/virtual_alexa
VA_STAMP := $(VA_DIR)/node_modules/.package-lock.json

$(VA_STAMP): $(VA_DIR)/package.json $(VA_DIR)/package-lock.json
	npm ci --prefix $(VA_DIR) --ignore-scripts --no-audit --no-fund
	touch $@

# apl-suggester (npm), Alexa's own APL linter, checks the screens' documents (tests/test_screens.py).
APL_DIR := tests/apl
APL_STAMP := $(APL_DIR)/node_modules/.package-lock.json

$(APL_STAMP): $(APL_DIR)/package.json $(APL_DIR)/package-lock.json
	npm ci --prefix $(APL_DIR) --ignore-scripts --no-audit --no-fund
	touch $@

# The phone player's browser tests drive Debian's Chromium with its chromedriver (installed here
# when missing); Lighthouse (npm) scores the page in it (tests/test_player_browser.py).
BROWSER_DIR := tests/browser
BROWSER_STAMP := $(BROWSER_DIR)/node_modules/.package-lock.json

chromium:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver)

$(BROWSER_STAMP): $(BROWSER_DIR)/package.json $(BROWSER_DIR)/package-lock.json
	npm ci --prefix $(BROWSER_DIR) --ignore-scripts --no-audit --no-fund
	touch $@

test: $(STAMP) $(VA_STAMP) $(APL_STAMP) $(BROWSER_STAMP) chromium
	$(BIN)/ruff check skill tests bench
	$(BIN)/ruff format --check skill tests bench
	$(BIN)/mypy
	BROWSER_TESTS=require $(BIN)/pytest -q --cov=skill --cov-branch --cov-report=term:skip-covered

# Lighthouse's four scores for the phone player on its phone profile; under target fails.
lighthouse: $(STAMP) $(BROWSER_STAMP) chromium
	$(BIN)/python $(BROWSER_DIR)/lighthouse.py

lint: $(STAMP)
	$(BIN)/ruff check skill tests bench

format: $(STAMP)
	$(BIN)/ruff format skill tests bench
	$(BIN)/ruff check --fix skill tests bench

bench: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) || \
		echo "wrk could not be installed: the bench uses its Python load client"
	$(BIN)/python bench/run.py

phrasings: $(STAMP) $(VA_STAMP)
	$(BIN)/python bench/phrasings.py

audio: $(STAMP)
	$(BIN)/yoga-skill render-audio

# How well a speech recogniser (faster-whisper, Whisper base) hears every committed clip: word
# error rate per clip and overall, and each yoga term, in bench/results/audio-check.md. Slow (about
# a quarter of real time: half an hour on two cores), so not part of `make test`.
AUDIO_CHECK_STAMP := $(VENV)/.audio-check-installed

$(AUDIO_CHECK_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[audio-check]'
	touch $@

audio-check: $(STAMP) $(AUDIO_CHECK_STAMP)
	$(BIN)/python -m skill.audio.audiocheck

# skill-package/ from its sources (skill/publish/, publish.yaml, interaction_models/), checked;
# then build/post-run-yoga-skill-package.zip for import and build/site/ (README, "Publishing").
package: $(STAMP)
	$(BIN)/yoga-skill package

# `sam build` (template.yaml, BuildMethod: makefile) runs this with ARTIFACTS_DIR set: the skill
# package (code, routines, prompts and screens; no bytecode) plus requirements-lambda.txt installed
# for the Lambda runtime (Python 3.12 on arm64) whatever the build machine is; then the JSON copy of
# each YAML data file (skill/datafiles.py), so that the function never imports PyYAML to answer.
LAMBDA_PIP_PLATFORM ?= --platform manylinux2014_aarch64 --implementation cp --python-version 3.12 --only-binary=:all:

build-YogaFunction:
	test -n "$(ARTIFACTS_DIR)"
	mkdir -p "$(ARTIFACTS_DIR)"
	rm -rf "$(ARTIFACTS_DIR)/skill"
	find skill -name __pycache__ -prune -o -type f \( -name '*.py' -o -name '*.yaml' -o -name py.typed \
		-o -path 'skill/screens/apl/*.json' \) -print \
		| tar -cf - -T - | tar -xf - -C "$(ARTIFACTS_DIR)"
	mkdir -p "$(ARTIFACTS_DIR)/audio" && cp audio/manifest.json "$(ARTIFACTS_DIR)/audio/"
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --no-compile --upgrade \
		--target "$(ARTIFACTS_DIR)" $(LAMBDA_PIP_PLATFORM) -r requirements-lambda.txt
	PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$(ARTIFACTS_DIR)" $(PYTHON) -S -m skill.datafiles \
		"$(ARTIFACTS_DIR)/skill"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .coverage $(VA_DIR)/node_modules $(APL_DIR)/node_modules \
		$(BROWSER_DIR)/node_modules
