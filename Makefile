# make run   -> create .venv, install requirements, serve the app on http://127.0.0.1:8050 (waitress;
#               HOST=, PORT= and SERVE_ARGS="--workers 2 --max-work 3e10 ..." override; Ctrl-C stops it)
# make test  -> create .venv, install requirements, run the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8050
SERVE_ARGS ?=

.PHONY: run test bench clean

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m visualizer serve --host $(HOST) --port $(PORT) $(SERVE_ARGS)

test: $(STAMP)
	mkdir -p .pytest-tmp
	TMPDIR=$(CURDIR)/.pytest-tmp $(PY) -m pytest -q --headless tests

bench: $(STAMP)
	$(PY) benchmarks/bench_surface.py
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_sweep.py
	$(PY) benchmarks/bench_curvature.py

clean:
	rm -rf $(VENV) .pytest-tmp
