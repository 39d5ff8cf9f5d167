# Two commands on a fresh machine with only Python: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
## The pinned requirements go in with uv when it is on PATH (parallel downloads; `make run UV=`
## forces pip), else with pip. Neither compiles every installed module to bytecode (pip does by
## default: 150 MB of it, most of the CPU of an install); BYTECODE then compiles what a server
## imports, once, so that every start reads it, even where PYTHONDONTWRITEBYTECODE is set. Should the
## configuration not load yet (production settings missing), that step is skipped and a process
## compiles what it imports. Measured in docs/BENCHMARKS.md, "First hour".
UV ?= $(shell command -v uv 2>/dev/null)
ifneq ($(strip $(UV)),)
INSTALL := $(UV) pip install --quiet --python $(BIN)/python
else
INSTALL := $(BIN)/python -m pip install --disable-pip-version-check --quiet --no-compile
endif
BYTECODE := $(BIN)/python -c "import sys; sys.dont_write_bytecode = False; import deploy.asgi; deploy.asgi.warm_up()"

.PHONY: run test lint format migrate worker beat serve-wsgi serve-asgi serve-full ctl bench check-deploy schema quality clean var

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt constraints.txt | $(BIN)/python
	@echo "Installing the pinned requirements into $(VENV) with $(if $(strip $(UV)),uv,pip) (the first time: minutes)"
	@$(INSTALL) -r requirements.txt -c constraints.txt
	@$(BYTECODE) >/dev/null 2>&1 || true
	@touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt constraints.txt $(VENV)/.runtime-installed
	@echo "Installing the test and lint requirements into $(VENV)"
	@$(INSTALL) -r requirements-dev.txt -c constraints.txt
	@touch $@

## Runtime files live under VAR_DIR (config/settings.py: database, media, static files, beat's
## schedule, the full stack's logs): created there, never in the checkout when VAR_DIR points elsewhere.
VAR_DIR ?= var
var:
	@mkdir -p "$(VAR_DIR)"

migrate: $(VENV)/.runtime-installed | var
	$(BIN)/python manage.py migrate --no-input

## Serve every API (HTTP, WebSockets, SSE) from one ASGI process on HOST:PORT.
## On PostgreSQL it keeps a pool of at most DATABASE_POOL_MAX_SIZE (8) connections: each sync view
## runs on a thread of its own under ASGI, and a persistent connection kept per thread would exhaust
## PostgreSQL (config/settings.py). uvicorn logs at warning because its
## info lines name the client address of every WebSocket. It trusts no proxy header
## (--no-proxy-headers): nothing stands in front of it, so X-Forwarded-For is the client's own
## say-so. The first start generates this server's keys into var/keys (VAR_DIR; docs/security.md);
## no debug pages unless DJANGO_DEBUG=1.
run: migrate
	@echo "Serving every API on http://$(HOST):$(PORT) (docs: http://$(HOST):$(PORT)/api/docs/)"
	DATABASE_POOL_MAX_SIZE=$${DATABASE_POOL_MAX_SIZE:-8} $(BIN)/uvicorn config.asgi:application \
		--host $(HOST) --port $(PORT) --lifespan off --no-access-log --log-level warning --no-proxy-headers

## The whole test suite (set DATABASE_URL and REDIS_URL to run it on the full stack), spread over
## PYTEST_WORKERS pytest-xdist workers, each with its own test database, Redis database and var/
## folder (docs/testing.md). Serially: `make test PYTEST_ARGS=-n0`.
PYTEST_WORKERS ?= 2
test: $(VENV)/.dev-installed | var
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/bandit --quiet --recursive --severity-level high --exclude ./.venv,./tests,./var .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: $(VENV)/.runtime-installed
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml

## Full stack pieces (need DATABASE_URL and REDIS_URL). Run either `serve-full` or `worker` and
## `beat` yourself, never both: two beats send every periodic job twice.
worker: $(VENV)/.runtime-installed
	$(BIN)/celery -A config worker --loglevel=INFO --concurrency=$${CELERY_CONCURRENCY:-2}

beat: $(VENV)/.runtime-installed | var
	$(BIN)/celery -A config beat --loglevel=INFO

## Full-stack serving (docs/deployment.md): REST on gunicorn (serve-wsgi), WebSockets and SSE on
## uvicorn (serve-asgi); serve-full runs both, nginx on HOST:PORT routing by path, the Celery worker
## and beat under supervisord (deploy/supervisord.conf), which restarts any one that dies. It
## refuses to start without DATABASE_URL and REDIS_URL and, with DJANGO_DEBUG=0, until
## `check --deploy` passes; `make ctl ARGS="restart worker"` acts on one program of a running stack.
ASGI_HOST ?= 127.0.0.1
ASGI_PORT ?= 8002

serve-wsgi: migrate
	$(BIN)/gunicorn config.wsgi:application --config deploy/gunicorn.conf.py

serve-asgi: migrate
	DATABASE_POOL_MAX_SIZE=$${DATABASE_POOL_MAX_SIZE:-8} $(BIN)/uvicorn config.asgi:application --host $(ASGI_HOST) --port $(ASGI_PORT) \
		--workers $${ASGI_WORKERS:-$$(nproc)} --lifespan off --no-access-log --no-proxy-headers --log-level warning

serve-full: $(VENV)/.runtime-installed
	PROXY_LISTEN=$(HOST):$(PORT) ASGI_HOST=$(ASGI_HOST) ASGI_PORT=$(ASGI_PORT) $(BIN)/python -m deploy.stack serve

ctl: $(VENV)/.runtime-installed
	$(BIN)/python -m deploy.stack ctl $(ARGS)

## Serving figures, every app's bench/<app>.py and the load mix (bench/load.py, Locust), written to
## docs/BENCHMARKS.md (needs DATABASE_URL, REDIS_URL and wrk; BENCH_ARGS="--seconds 15" and the like
## pass through).
bench: $(VENV)/.dev-installed | var
	$(BIN)/python -m bench $(BENCH_ARGS)

## Quality gates (docs/quality.md): fuzzing of every API, the authorization matrix, faults (Redis
## down, PostgreSQL restarted, workers killed), a load smoke and the security checks. The live ones
## need DATABASE_URL and REDIS_URL (they are skipped without, and fail in CI); QUALITY_FUZZ_EXAMPLES=25
## fuzzes harder. `make test` runs the same tests with the rest of the suite.
quality: $(VENV)/.dev-installed | var
	$(BIN)/bandit --quiet --recursive --severity-level high --exclude ./.venv,./tests,./var .
	$(MAKE) --no-print-directory check-deploy
	$(BIN)/python -m pytest tests/quality $(PYTEST_ARGS)

check-deploy: $(VENV)/.runtime-installed
	DJANGO_DEBUG=0 SECRET_KEY=$${SECRET_KEY:-check-deploy-$$(date +%s)-a-long-random-production-secret-key-value} \
		FIELD_ENCRYPTION_KEY=$${FIELD_ENCRYPTION_KEY:-$$($(BIN)/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')} \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var
