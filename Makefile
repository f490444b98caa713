# Podlens: `make run` and `make test` do everything on a fresh machine.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501
export PYTHONPATH := $(CURDIR)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
PYTEST_ARGS ?=

.PHONY: setup run test test-fast lint bench browser-deps clean

setup: $(STAMP)

# torch first, pinned: `torch==2.13.0` takes the CPU wheel on disk; anything looser pulls CUDA.
$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -r requirements.txt
	touch $(STAMP)

# Fetch the default episode when nothing is ingested; the app's empty state still works offline.
# Offline with ../shared beside the repo (a dev checkout), ingest from its copies instead.
SHARED_EP19 := ../shared/axrp/posts/2023-02-03-episode-19-mechanistic-interpretability-neel-nanda.markdown
run: setup
	@$(PY) -m ingest status --quiet || $(PY) -m ingest axrp 19 || \
		{ [ -f $(SHARED_EP19) ] && echo "podlens: offline; ingesting AXRP 19 from ../shared" && \
		  $(PY) -m ingest --feed ../shared/axrp/feed-episode-19.xml --transcript $(SHARED_EP19) \
		    --episode 19 --no-papers; } || \
		echo "podlens: could not fetch AXRP 19 (offline?); starting the app anyway - its home page can ingest later."
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.headless true

# Chromium for the browser tests; skipped (with the reason shown by pytest) where apt can't install it.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "podlens: chromium not installed; browser tests will be skipped"; }

test: setup browser-deps
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest $(PYTEST_ARGS)

# The quick loop: everything but model training and the browser.
test-fast: setup
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) tests/artifacts .pytest_cache
