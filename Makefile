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

.PHONY: serve test install browser benchmark benchmark-ui clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

serve: install
	$(VENV)/bin/panel serve explorer/app.py --address $(HOST) --port $(PORT) \
		--allow-websocket-origin=$(HOST):$(PORT) --allow-websocket-origin=localhost:$(PORT)

browser:
	@test -x $(CHROMIUM) || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		else echo "Chromium is missing: install Debian's 'chromium' package (sudo apt-get install chromium)"; exit 1; fi; }

test: install browser
	$(PY) -m pytest

benchmark: install
	$(PY) -m benchmarks

# UI timings in Chromium on the full OGLE-III catalogue (a few minutes; not a test): see README.
benchmark-ui: install browser
	$(PY) -m benchmarks.ui --chromium $(CHROMIUM)

clean:
	rm -rf $(VENV) .pytest_cache test-results
