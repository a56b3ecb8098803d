# Two commands do all the set-up on a fresh Debian machine:
#   make run    install what is missing, then process samples/ into ./var and keep watching ./var/inbox
#   make test   install what is missing, start the services the tests use, run every test
# Every step is idempotent: what is already there is not installed again.

PYTHON   ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
HOME_DIR ?= var
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian packages: OCR engine + English and orientation data, poppler, fonts for the sample
# generator, venv for Python, the database/cache servers the scaled-out path and its tests use.
APT_PACKAGES := tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd poppler-utils fonts-dejavu-core fonts-dejavu-extra chromium \
                python3-venv postgresql redis-server

.PHONY: run test install system-deps python-deps services samples bench clean

run: install
	$(BIN)/pipeline --home $(HOME_DIR) doctor
	$(BIN)/pipeline --home $(HOME_DIR) patients import samples/patients.csv
	$(BIN)/pipeline --home $(HOME_DIR) process samples/scans samples/bad
	@echo "watching $(HOME_DIR)/inbox: drop scans there (Ctrl-C to stop)"
	$(BIN)/pipeline --home $(HOME_DIR) watch $(HOME_DIR)/inbox

test: install services
	$(BIN)/pytest -q

install: system-deps python-deps

system-deps:
	@missing=""; \
	for pkg in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q "ok installed" || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

python-deps: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

services:
	bash .ci/services

samples: install
	$(BIN)/python -m pipeline.synth.samples samples

bench: install
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	@echo "benchmarks: see docs/benchmarks.md for each command"

clean:
	rm -rf $(HOME_DIR) .pytest_cache
