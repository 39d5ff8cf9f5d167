# Two commands on a fresh machine with only Python: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PIP_INSTALL := $(BIN)/python -m pip install --disable-pip-version-check -q

.PHONY: run test lint format migrate worker beat serve-wsgi serve-asgi serve-full bench check-deploy schema quality clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt constraints.txt $(VENV)/.runtime-installed
	$(PIP_INSTALL) -r requirements-dev.txt -c constraints.txt
	touch $@

var:
	mkdir -p var/media

migrate: $(VENV)/.runtime-installed | var
	$(BIN)/python manage.py migrate --no-input

## Serve every API (HTTP, WebSockets, SSE) from one ASGI process on HOST:PORT.
## Persistent database connections stay off under ASGI: each sync view runs on a thread of its
## own, and a connection kept per thread exhausts PostgreSQL. uvicorn logs at warning because its
## info lines name the client address of every WebSocket. It trusts no proxy header
## (--no-proxy-headers): nothing stands in front of it, so X-Forwarded-For is the client's own
## say-so. The first start generates this server's keys into var/keys (VAR_DIR; docs/security.md);
## no debug pages unless DJANGO_DEBUG=1.
run: migrate
	@echo "Serving every API on http://$(HOST):$(PORT) (docs: http://$(HOST):$(PORT)/api/docs/)"
	DATABASE_CONN_MAX_AGE=$${DATABASE_CONN_MAX_AGE:-0} $(BIN)/uvicorn config.asgi:application \
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
	$(BIN)/bandit --quiet --recursive --severity-level high --exclude ./.venv,./tests,./var .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: $(VENV)/.runtime-installed
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml

## Full stack pieces (need DATABASE_URL and REDIS_URL).
worker: $(VENV)/.runtime-installed
	$(BIN)/celery -A config worker --loglevel=INFO --concurrency=$${CELERY_CONCURRENCY:-2}

beat: $(VENV)/.runtime-installed | var
	$(BIN)/celery -A config beat --loglevel=INFO --schedule=var/celerybeat-schedule

## Full-stack serving (docs/deployment.md): REST on gunicorn (serve-wsgi), WebSockets and SSE on
## uvicorn (serve-asgi); serve-full adds nginx on HOST:PORT routing by path, the Celery worker and
## beat. Every command line lives in deploy/Procfile; honcho runs it. Behind the proxy the app
## keys anonymous rate limits on the address nginx appends to X-Forwarded-For (the servers listen
## on loopback only, so nothing else can set it).
WSGI_BIND ?= 127.0.0.1:8001
ASGI_HOST ?= 127.0.0.1
ASGI_PORT ?= 8002
HONCHO := WSGI_BIND=$(WSGI_BIND) ASGI_HOST=$(ASGI_HOST) ASGI_PORT=$(ASGI_PORT) PROXY_LISTEN=$(HOST):$(PORT) \
	$(BIN)/honcho --procfile deploy/Procfile --app-root . start

serve-wsgi: migrate
	$(HONCHO) web

serve-asgi: migrate
	$(HONCHO) asgi

serve-full: $(VENV)/.runtime-installed | var
	@test -n "$$DATABASE_URL" -a -n "$$REDIS_URL" || \
		{ echo "serve-full runs the full stack: set DATABASE_URL and REDIS_URL (docs/deployment.md)"; exit 2; }
	$(BIN)/python manage.py migrate --no-input
	PROXY_LISTEN=$(HOST):$(PORT) WSGI_BIND=$(WSGI_BIND) ASGI_HOST=$(ASGI_HOST) ASGI_PORT=$(ASGI_PORT) \
		$(BIN)/python -m deploy.proxy --check
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	TRUST_X_FORWARDED_FOR=$${TRUST_X_FORWARDED_FOR:-1} $(HONCHO)

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
