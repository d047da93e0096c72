# LegCare bot image: slim, non-root, dependencies installed exactly from uv.lock.
FROM python:3.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY bot ./bot
COPY handlers ./handlers
COPY content ./content
COPY scheduler ./scheduler
COPY fakebot ./fakebot
RUN uv sync --frozen --no-dev

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 legcare
WORKDIR /app
COPY --from=build --chown=legcare:legcare /app /app
ENV PATH="/app/.venv/bin:$PATH" PYTHONUNBUFFERED=1
USER legcare
# `legcare run` applies migrations before it starts polling.
CMD ["legcare", "run"]
