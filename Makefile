# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# What running needs (the package and its dependencies), and what the tests add (the dev extra:
# pytest, playwright, the TorchRL, SB3, SuperSuit and Ray integrations).
STAMP     := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# Without an NVIDIA GPU (no nvidia-smi on the PATH) pip is given .ci/constraints.txt, which caps
# torch below 2.14: where a CPU build below the cap is at hand (as on the machines we test on)
# pip takes it instead of a several-GB CUDA build. It does not choose a build anywhere else:
# see the README. `make run CONSTRAINTS=` installs with no constraints file, `CONSTRAINTS=f.txt`
# with your own.
CONSTRAINTS ?= $(if $(shell command -v nvidia-smi 2>/dev/null),,.ci/constraints.txt)
# setuptools prints a boxed notice on every editable install of a project with two top-level
# packages (coopsim and mechanisms): "be careful with folders ... with the same name as your
# package". It changes nothing here and reads like a failure at a newcomer's first `make run`,
# so pip (and the build it starts) ignore that one warning.
# pip byte-compiles every module it installs (some 10,800 files, most never imported), which was
# more than half of `make run`'s install. Python compiles a module the first time it is imported
# and keeps the bytecode, so where it may write bytecode (PYTHONDONTWRITEBYTECODE unset) pip
# skips that step and the demo and the app compile the 3,500 they import, once (measured:
# docs/getting-started.md). Where bytecode is never written pip compiles as before, or every
# process would compile its imports again.
NO_COMPILE := $(if $(PYTHONDONTWRITEBYTECODE),,--no-compile)
PIP := PYTHONWARNINGS="ignore:Editable installation" \
	$(PY) -m pip install --quiet $(NO_COMPILE) $(if $(CONSTRAINTS),--constraint $(CONSTRAINTS))
# Extra arguments for `coopsim app` in `make run`, e.g. APP_ARGS="--headless --port 8600".
APP_ARGS ?=

.PHONY: run test lint bench notebooks notebooks-outputs docs docs-build clean lab-venv

# oTree (the `lab` extra) pins web libraries older than the app's, so it gets its own
# environment; the exported projects and tests/lab's `otree test` runs use it.
LAB_VENV  ?= .venv-lab
LAB_OTREE := $(LAB_VENV)/bin/otree

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "coopsim needs Python 3.10 or newer, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PIP) -e .
	@touch $(STAMP)

$(DEV_STAMP): pyproject.toml | $(PY)
	$(PIP) -e ".[dev]"
	@touch $(STAMP) $(DEV_STAMP)

## make run: set up what running needs, run the demo, open the app
run: $(STAMP)
	$(VENV)/bin/coopsim demo
	@echo "The app's Compare page lists the demo's runs; Ctrl-C stops it."
	$(VENV)/bin/coopsim app $(APP_ARGS)

$(LAB_OTREE):
	$(PYTHON) -m venv $(LAB_VENV)
	$(LAB_VENV)/bin/python -m pip install --quiet "otree>=5.10,<7" requests

## make lab-venv: oTree in its own environment, for `coopsim otree` projects and their tests
lab-venv: $(LAB_OTREE)

# Test workers (pytest-xdist): two fill a 2-core machine, since many tests wait on a browser, a
# server or a child process; `make test TEST_WORKERS=0` runs the suite in one process.
TEST_WORKERS ?= 2

## make test: set up with the dev extra, then pass every test
test: $(DEV_STAMP) $(LAB_OTREE)
	@bash scripts/system-deps.sh
	$(PY) -m pytest -q $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS))

## make notebooks: set up with JupyterLab, then open the notebooks in it
notebooks: $(STAMP)
	$(PIP) -e ".[notebooks]"
	$(VENV)/bin/jupyter lab notebooks/

DOCS_STAMP := $(VENV)/.installed-docs
# MkDocs plugins print a notice about MkDocs 2 on every build; these two variables silence it.
MKDOCS := DISABLE_MKDOCS_2_WARNING=true NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs

$(DOCS_STAMP): pyproject.toml | $(PY)
	$(PIP) -e ".[docs]"
	@touch $(STAMP) $(DOCS_STAMP)

## make docs: serve the docs site on http://127.0.0.1:8000/, rebuilt on every edit
docs: $(DOCS_STAMP)
	$(MKDOCS) serve --dev-addr 127.0.0.1:8000

## make docs-build: write the docs site to site/ (fails on a broken link or reference)
docs-build: $(DOCS_STAMP)
	$(MKDOCS) build --strict

## make notebooks-outputs: run every notebook and store its outputs (the docs show them)
notebooks-outputs: $(DEV_STAMP)
	$(PY) scripts/docs/run_notebooks.py

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(VENV)/bin/coopsim bench

clean:
	rm -rf $(VENV) $(LAB_VENV) runs .pytest_cache site
