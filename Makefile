# CTG evaluation pipeline — two commands do everything on a fresh machine:
#   make report   set up, validate the data, run the pipeline on data/ and render the reports
#   make test     set up, then run the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      ?= .venv
PY        := $(VENV)/bin/python
CTG       := $(VENV)/bin/ctg
STAMP     := $(VENV)/.installed
export UV_COMPILE_BYTECODE := 1
export UV_LINK_MODE := copy
export PYTHONHASHSEED := 0

.PHONY: help install system-deps report test bench bench-kernels lab clean

help:
	@echo "make report   installe, valide les données et produit les rapports dans reports/"
	@echo "make test     installe puis lance toute la suite de tests"
	@echo "make bench    compare ctg run à la boucle naïve papermill + nbconvert + pandoc (bench/run.py)"
	@echo "make bench-kernels  compare les noyaux dupliqués aux noyaux papermill (bench/kernels.py)"
	@echo "make lab      ouvre JupyterLab sur le noyau du projet"

# uv is bootstrapped with pip when absent; dependencies come from the committed uv.lock.
$(STAMP): pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
	uv sync --frozen --all-extras --compile-bytecode
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ctg)" >/dev/null
	@touch $(STAMP)

install: $(STAMP)

# Debian packages used by the tests and the visual checks (PDF to images/text, headless browser, fonts).
system-deps:
	@if ! command -v pdftoppm >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1 || [ ! -d /usr/share/fonts/truetype/dejavu ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils chromium fonts-dejavu-core >/dev/null; \
	  else echo "Paquets système manquants : poppler-utils chromium fonts-dejavu-core (installez-les avec apt-get)."; fi; \
	fi

report: install
	$(CTG) run --toutes-annees

test: install system-deps
	$(VENV)/bin/pytest -q -p no:cacheprovider

bench: install
	$(PY) bench/run.py $(BENCH_ARGS)

bench-kernels: install
	$(PY) bench/kernels.py

lab: install
	$(PY) -m pipeline.lab

clean:
	rm -rf build reports data/processed
