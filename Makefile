# Two commands on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU wheel keeps a fresh install small; with a GPU, install your CUDA torch into .venv first
# (see README) and this step leaves it alone.
TORCH_SPEC ?= torch==2.13.0
HOST ?= 127.0.0.1
PORT ?= 5006
CHROMIUM ?= /usr/bin/chromium
# Built-in data sets (git-ignored); the app and tests read $VSE_DATA_DIR, so a moved folder still works.
DATA_DIR ?= .data
export VSE_DATA_DIR := $(abspath $(DATA_DIR))
ASAS_SDIST := mltsp-0.3.3.tar.gz
ASAS := $(DATA_DIR)/asas/labels.csv

.PHONY: serve test install browser benchmark benchmark-ui benchmark-ui-ab clean data

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

# The ASAS training set of Richards et al. 2012 from the mltsp==0.3.3 sdist on PyPI: its setup.py
# imports numpy and Cython, hence --no-build-isolation with Cython (the `data` extra) in the venv.
# The md5 of the inner tarball is checked before the store is written (pipeline/lightcurves/asas.py).
$(ASAS): pipeline/lightcurves/asas.py | $(VENV)/.installed
	$(PY) -c "import Cython, setuptools" 2>/dev/null || $(PY) -m pip install --quiet -e ".[data]"
	mkdir -p $(DATA_DIR)/download
	test -f $(DATA_DIR)/download/$(ASAS_SDIST) || $(PY) -m pip download --quiet --no-deps \
		--no-build-isolation --no-binary :all: mltsp==0.3.3 -d $(DATA_DIR)/download
	$(PY) -m pipeline.lightcurves.asas $(DATA_DIR)/download/$(ASAS_SDIST) --out $(DATA_DIR)/asas

data: $(ASAS)

# python -m explorer: panel serve on $(HOST) only, with the websocket message size uploads need
serve: install data
	$(PY) -m explorer --address $(HOST) --port $(PORT)

browser:
	@test -x $(CHROMIUM) || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		else echo "Chromium is missing: install Debian's 'chromium' package (sudo apt-get install chromium)"; exit 1; fi; }

test: install browser data
	$(PY) -m pytest

benchmark: install
	$(PY) -m benchmarks

# UI timings in Chromium on the full OGLE-III catalogue (a few minutes; not a test): see README.
benchmark-ui: install browser
	$(PY) -m benchmarks.ui --chromium $(CHROMIUM)

# The same pages before (BASE, a git ref) and after a change, served side by side: see README.
BASE ?= HEAD
benchmark-ui-ab: install browser
	$(PY) -m benchmarks.ui_ab --base $(BASE) --chromium $(CHROMIUM)

clean:
	rm -rf $(VENV) .pytest_cache test-results
