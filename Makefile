# make run   -> create .venv, install the package (editable) with its extras, serve the app on http://127.0.0.1:8050
#               (waitress; HOST=, PORT= and SERVE_ARGS="--workers 2 --max-work 3e10 ..." override; Ctrl-C stops it)
# make test  -> create .venv, install the package with its test extras, `ruff check`, then the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8050
SERVE_ARGS ?=

.PHONY: run test lint bench clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m visualizer serve --host $(HOST) --port $(PORT) $(SERVE_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check core visualizer tests benchmarks tools

test: $(STAMP) lint
	mkdir -p .pytest-tmp
	TMPDIR=$(CURDIR)/.pytest-tmp $(PY) -m pytest -q --headless tests

bench: $(STAMP)
	$(PY) benchmarks/bench_surface.py
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_sweep.py
	$(PY) benchmarks/bench_curvature.py

clean:
	rm -rf $(VENV) .pytest-tmp build *.egg-info
