# MissionOS application image: web (uvicorn), Celery worker and Celery beat all run from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    PATH="/opt/venv/bin:$PATH"

# WeasyPrint (the board report's PDF) loads Pango, HarfBuzz and Fontconfig at run time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libfontconfig1 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN pip install --no-cache-dir uv

WORKDIR /app

# Dependencies first, so code changes do not reinstall them. The virtualenv lives in /opt/venv,
# outside the build context, so a developer's local .venv copied in by `COPY . .` is never used.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
RUN uv sync --frozen --no-dev

# collectstatic imports settings, which refuse to start with DEBUG off and no SECRET_KEY; this
# throwaway key exists only for this build step and is not baked into the image's environment.
RUN DEBUG=0 SECRET_KEY=collectstatic-build-step-only-not-a-real-secret \
    python manage.py collectstatic --noinput

RUN useradd --system --no-create-home --home-dir /app missionos
USER missionos

EXPOSE 8000
CMD ["uvicorn", "missionos.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--timeout-graceful-shutdown", "10"]
