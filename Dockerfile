# syntax=docker/dockerfile:1
# The service's image: the worker, the `complaints` CLI (migrate, setup, ...) and the codec
# server. Runtime dependencies only: the embedded servers (the `embedded` extra) stay out.
ARG PYTHON_IMAGE=python:3.11-slim

# Build: the project and its dependencies into a virtual environment (all from wheels).
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/complaints
WORKDIR /src
# .dockerignore keeps out .venv, .data (customer data), .git, tests and local files.
COPY . .
# Optional extras, e.g. `docker build --build-arg EXTRAS=otel .` for OpenTelemetry tracing.
ARG EXTRAS=""
RUN /opt/complaints/bin/pip install ".${EXTRAS:+[$EXTRAS]}"

# Run: that environment alone, as an unprivileged user that owns none of it.
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 complaints \
    && useradd --system --uid 10001 --gid complaints --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin complaints
COPY --from=build /opt/complaints /opt/complaints
ENV PATH=/opt/complaints/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    COMPLAINTS_LOG_FORMAT=json
WORKDIR /app
USER 10001:10001
CMD ["python", "-m", "worker"]
