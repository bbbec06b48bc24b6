# syntax=docker/dockerfile:1
# The service's image: the worker, the API, the `complaints` CLI (migrate, setup, backup, ...).
# Runtime dependencies only, from the lock file: the embedded servers (the `embedded` extra,
# psutil with them) stay out.
ARG PYTHON_IMAGE=python:3.11-slim

# Build: the locked dependencies into a virtual environment (a layer of its own, rebuilt only
# when the lock changes), then the project on top without resolving anything.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/complaints
WORKDIR /src
# `make lock` writes both from pyproject.toml: requirements.lock (the runtime) and
# requirements-otel.lock (with OpenTelemetry tracing: --build-arg LOCK=requirements-otel.lock).
ARG LOCK=requirements.lock
COPY requirements.lock requirements-otel.lock ./
RUN /opt/complaints/bin/pip install --require-hashes --no-deps -r "${LOCK}"
# .dockerignore keeps out .venv, .data (customer data), .git, tests and local files.
COPY . .
RUN /opt/complaints/bin/pip install --no-deps --no-build-isolation --no-index . \
    && /opt/complaints/bin/pip check

# Run: that environment alone, as an unprivileged user that owns none of it.
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 complaints \
    && useradd --system --uid 10001 --gid complaints --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin complaints \
    && install -d -o 10001 -g 10001 -m 0700 /var/lib/complaints/shop-keys
COPY --from=build /opt/complaints /opt/complaints
ENV PATH=/opt/complaints/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    COMPLAINTS_LOG_FORMAT=json \
    COMPLAINTS_SHOP_KEYS=/var/lib/complaints/shop-keys
WORKDIR /app
USER 10001:10001
# The default command is the worker: healthy while it polls its task queue and PostgreSQL and
# Temporal answer it (its /ready on the metrics port, 503 while it starts or stops, or either
# does not answer). Compose sets the API's own check (/ready).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/ready' % os.environ.get('COMPLAINTS_METRICS_PORT', '9464'), timeout=3)"]
CMD ["python", "-m", "worker"]
