# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench notebooks clean

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "coopsim needs Python 3.10 or newer, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

## make run: set up, run the flagship scenarios, open the app
run: $(STAMP)
	$(VENV)/bin/coopsim demo
	$(VENV)/bin/coopsim app

## make test: set up, then pass every test
test: $(STAMP)
	@bash scripts/system-deps.sh
	$(PY) -m pytest -q

## make notebooks: set up with JupyterLab, then open the notebooks in it
notebooks: $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev,notebooks]"
	$(VENV)/bin/jupyter lab notebooks/

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(PY) bench/throughput.py

clean:
	rm -rf $(VENV) runs .pytest_cache
