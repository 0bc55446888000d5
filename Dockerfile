# Production image: gunicorn serves the app (gunicorn.conf.py), whitenoise serves static files.
# The build stage compiles the translations (GNU gettext's msgfmt, which python:3.11-slim lacks)
# and collects the static files; the runtime stage gets their output, not the tools.
# Without a Docker engine: .ci/image-build-steps runs these steps (README, "Production").
FROM python:3.11-slim-bookworm AS build
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/app/var PATH=/venv/bin:$PATH
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN python -m venv /venv && pip install --no-cache-dir -r requirements.lock
COPY . .
# Settings, not secrets: a throwaway key, as long as production requires, for these steps only.
RUN DEBUG=0 SECRET_KEY=build-only-throwaway-key-never-used-by-a-running-process-0123456789 \
        python manage.py collectstatic --noinput \
    && DEBUG=0 SECRET_KEY=build-only-throwaway-key-never-used-by-a-running-process-0123456789 \
        python manage.py compilemessages --ignore=.venv >/dev/null

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/app/var PATH=/venv/bin:$PATH
WORKDIR /app
COPY --from=build /venv /venv
COPY --from=build /app /app
RUN useradd --create-home salesplan && chown -R salesplan /app/var
USER salesplan
EXPOSE 8000
CMD ["gunicorn", "salesplan.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
