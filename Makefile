# `make run` and `make test` each create .venv and install into it when needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501
SEED_THREADS ?= 42
# Test processes (pytest-xdist): the machines have 2 cores; TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= 2
# Demo threads go into the embedded default database only. A database you point the desk at
# (HITL_DATABASE_URL set) never gets demo threads from `make run` or `make api`: run
# `make seed` yourself if you want them there.
ifeq ($(origin HITL_DATABASE_URL),undefined)
DEMO_DATA := seed
endif
export HITL_DATABASE_URL ?= sqlite:///data/hitl.db

.PHONY: run test api seed install clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

seed: $(STAMP)
	$(PY) -m hitl.demo seed --if-empty --threads $(SEED_THREADS)

run: $(STAMP) $(DEMO_DATA)
	$(PY) -m hitl.ui.serve --server.port $(PORT)

api: $(STAMP) $(DEMO_DATA)
	$(PY) -m uvicorn hitl.api:app --port 8000

# The server tests' own venv (langgraph dev) is installed in the background while the first
# tests run; the server fixture waits for it on the same lock file (tests/server/conftest.py).
test: $(STAMP)
	($(PY) -c "import tests.server.conftest as c; c._server_python()" > $(VENV)/langgraph-server-install.log 2>&1 &)
	LANGGRAPH_STRICT_MSGPACK=true $(PY) -m pytest -q -n $(TEST_WORKERS)

clean:
	rm -rf $(VENV) data .pytest_cache
