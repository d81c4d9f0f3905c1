# Two commands on a fresh machine: `make run` and `make test`. Nothing else needs installing first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test bench lint chromium messages clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) manage.py rundms

# Debian's Chromium for the browser tests, and a CJK font so its screenshots show Chinese text.
chromium:
	@{ command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q .; } || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) \
	      || echo "Could not install chromium: browser tests will be skipped."; \
	  else echo "chromium is missing and apt is unavailable: browser tests will be skipped."; fi; }

lint: install
	$(VENV)/bin/ruff check .

test: install chromium lint
	$(PY) -m pytest

bench: install
	$(PY) -m bench.search
	$(PY) -m bench.followup
	$(PY) -m bench.queue
	$(PY) -m bench.service
	$(PY) -m bench.sales
	$(PY) -m bench.care
	$(PY) -m bench.kpis

messages: install
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=bench --ignore=tests --no-obsolete
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) .data staticfiles
