# hda-ssd: two commands for a newcomer.
#   make demo   installs what is missing into .venv/, then trains and evaluates the CPU demo
#   make test   installs what is missing into .venv/, then runs the test suite
#   make lint   ruff check . (the rules are in pyproject.toml; CI runs it first)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.hda-ssd-installed
PYTEST_ARGS ?=

.PHONY: install demo test lint clean-demo

install: $(STAMP)

# Re-runs (and skips what is there) whenever the install recipe or the package metadata change.
$(STAMP): tools/install_env.sh tools/constraints.txt setup.cfg pyproject.toml
	bash tools/install_env.sh $(VENV)
	touch $@

demo: install
	$(PY) tools/demo.py

test: install
	$(PY) -m pytest tests $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

clean-demo:
	rm -rf work_dirs/demo data/synthetic_hda
