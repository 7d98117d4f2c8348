# Every target creates the virtual environment and installs parcours into it when that is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install test test-all demo lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dask]'
	touch $@

install: $(BIN)/.installed

# The suite runs on every core (pytest-xdist): -n auto starts one worker per core; worksteal moves
# waiting tests to a worker that ran out, so one long test does not leave the other cores idle.
test: install
	$(BIN)/pytest -q -n auto --dist worksteal

demo: install
	$(BIN)/parcours simulate --scenario omnichannel --seed 7 --out runs/demo --overwrite
	$(BIN)/parcours report runs/demo -o runs/demo/report.html
	$(BIN)/parcours replay runs/demo --target builtin --window 12:00-13:00 --speed 120

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

clean:
	rm -rf $(VENV) runs .pytest_cache
