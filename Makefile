# make run   -> create .venv, install requirements, start the app on http://127.0.0.1:8050
# make test  -> create .venv, install requirements, run the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test bench clean

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m visualizer serve --host 127.0.0.1 --port 8050

test: $(STAMP)
	mkdir -p .pytest-tmp
	TMPDIR=$(CURDIR)/.pytest-tmp $(PY) -m pytest -q --headless tests

bench: $(STAMP)
	$(PY) benchmarks/bench_surface.py
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_sweep.py

clean:
	rm -rf $(VENV) .pytest-tmp
