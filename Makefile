# The two commands of the README: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SA := $(BIN)/sales-analysis
KERNEL := sales-analysis

.PHONY: demo test install install-test sysdeps sysdeps-test lock reports check clean bench notebooks

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	$(SA) kernel install > /dev/null   # for JupyterLab and nbval; report runs do not need it
	touch $@

# The test lock is complete (every package pinned), so it installs without dependency resolution:
# lifelines (the tests' reference implementation) declares pandas<3 but runs on the pandas 3 of the lock.
$(VENV)/.installed-test: requirements-test.lock $(VENV)/.installed
	$(BIN)/pip install -q --no-deps -r requirements-test.lock
	touch $@

install: $(VENV)/.installed sysdeps
install-test: $(VENV)/.installed-test sysdeps-test

# System packages: a CJK font (charts and HTML draw Chinese), chromium for the browser test.
sysdeps:
	@bash scripts/sysdeps.sh fonts
sysdeps-test:
	@bash scripts/sysdeps.sh fonts chromium postgresql java

demo: install
	$(SA) demo
	$(SA) demo --profile agency
	$(SA) check
	$(SA) run-batch schedules/demo.yml
	@echo
	@echo "Demo store:   data/warehouse.duckdb (truth records: data/demo_truth.json, data/agency_truth.json)"
	@echo "Reports:      reports/index.html"

reports: install
	$(SA) run-batch schedules/demo.yml

# The demo worlds the committed notebooks were executed on (nbval re-executes them against it): the
# tobacco world and, in the same store beside it, the agency world (agents, policies …) of
# notebooks/agency_monthly.ipynb.
data/warehouse.duckdb: | $(VENV)/.installed
	$(SA) demo
	$(SA) demo --profile agency

# pytest (on two workers, a file's tests in one worker) and nbval both run, whatever the other gives;
# the target fails after if either failed. nbval runs beside pytest (its kernels read the demo store,
# which no test writes) so that the two share the cores instead of taking turns; its output comes after pytest's.
test: install-test data/warehouse.duckdb
	@failed=""; nbval_log=$$(mktemp); \
	SALES_ANALYSIS_METRICS=$$(mktemp -d)/metrics.json $(BIN)/python -m pytest -q -p no:cacheprovider \
	  --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-kernel-name $(KERNEL) notebooks/*.ipynb \
	  > $$nbval_log 2>&1 & nbval_pid=$$!; \
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=25 tests || failed="pytest"; \
	wait $$nbval_pid || failed="$${failed:+$$failed and }nbval"; \
	echo "--- nbval (notebooks/*.ipynb)"; cat $$nbval_log; rm -f $$nbval_log; \
	if [ -n "$$failed" ]; then echo "make test: $$failed failed (see above)" >&2; exit 1; fi

# Re-execute the committed notebooks on the demo world (after a deliberate change of output).
notebooks: install
	$(BIN)/python scripts/execute_notebooks.py

bench: install
	$(SA) bench

# Refresh the locks from pyproject.toml (run after changing dependencies). lifelines goes in without
# its dependency check (see the comment in pyproject.toml's test extra).
LIFELINES := lifelines==0.30.3
lock:
	rm -rf /tmp/sa-lock && $(PYTHON) -m venv /tmp/sa-lock
	/tmp/sa-lock/bin/pip install -q --upgrade pip
	/tmp/sa-lock/bin/pip install -q .
	/tmp/sa-lock/bin/pip freeze --exclude-editable | grep -v '^sales-analysis' > requirements.lock
	/tmp/sa-lock/bin/pip install -q '.[test,bench]'
	/tmp/sa-lock/bin/pip install -q --no-deps $(LIFELINES)
	/tmp/sa-lock/bin/pip freeze --exclude-editable | grep -v '^sales-analysis' > requirements-test.lock

clean:
	rm -rf $(VENV) reports/* data/warehouse.duckdb data/demo_truth.json data/agency_truth.json
