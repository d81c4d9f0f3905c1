"""Test settings: same real PostgreSQL and Redis resolution as every other environment.

Tests use Redis database 1 (or ``TEST_REDIS_URL``) so a ``make run`` worker sharing the server
never takes a test's task.
"""

import os

from dms.embedded import celery_broker_url, with_redis_db

from .base import *  # noqa: F403
from .base import REDIS_URL

REDIS_URL = os.environ.get("TEST_REDIS_URL") or with_redis_db(REDIS_URL, 1)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "dms-test",
    }
}
CELERY_BROKER_URL = CELERY_RESULT_BACKEND = celery_broker_url(REDIS_URL)

DEBUG = False
SECRET_KEY = "test-only-key-not-secret"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True  # no collectstatic in tests; serve from the finders
WHITENOISE_USE_FINDERS = True
# Two suites on one server (two checkouts, or a developer and a helper) each name their own database.
if os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}  # noqa: F405
