# Production image: gunicorn serves the app, whitenoise serves static files.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/app/var
WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
# collectstatic needs settings, not secrets: a throwaway key for this build step only.
RUN DEBUG=0 SECRET_KEY=build-only python manage.py collectstatic --noinput \
    && DEBUG=0 SECRET_KEY=build-only python manage.py compilemessages --ignore=.venv >/dev/null \
    && useradd --create-home salesplan && mkdir -p /app/var && chown -R salesplan /app/var
USER salesplan
EXPOSE 8000
CMD ["gunicorn", "salesplan.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
