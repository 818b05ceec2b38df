# One command sets up and runs the demo; one runs every check. See README.md.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint chromium bench bench-fidelity clean

demo: $(VENV)/.installed
	$(BIN)/supportflow demo

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# The browser test needs Debian's Chromium (Playwright drives it; it never downloads a browser)
# and a CJK font, so that the Chinese report's screenshot shows characters rather than boxes.
chromium:
	@command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -q "Noto Sans CJK" || { \
		echo "installing Debian's chromium and fonts-noto-cjk for the browser test"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
			chromium fonts-noto-cjk >/dev/null; }

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: $(VENV)/.installed chromium lint
	$(BIN)/pytest

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_diagnose.py

# the distance library of Simod's evaluation pins pandas < 3: it gets its own venv
.venv-fidelity/.installed: pyproject.toml
	$(PYTHON) -m venv .venv-fidelity
	.venv-fidelity/bin/pip install -q -e . "log-distance-measures==2.2.0" "pandas>=2.3,<3"
	touch $@

bench-fidelity: .venv-fidelity/.installed
	.venv-fidelity/bin/python benchmarks/bench_sim_fidelity.py --seeds 5

clean:
	rm -rf $(VENV) .venv-fidelity supportflow-demo test-artifacts .pytest_cache .mypy_cache .ruff_cache
