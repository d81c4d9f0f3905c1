"""Settings shared by every environment; everything secret or site-specific comes from the environment."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from dms import embedded

logging.getLogger("pgserver").setLevel(logging.WARNING)  # it logs every start and stop at INFO

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tables2",
    "django_htmx",
    "django_celery_beat",
    "dms",
    "crm",
    "followup",
    "sales",
    "service",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "dms.urls"
WSGI_APPLICATION = "dms.wsgi.application"
ASGI_APPLICATION = "dms.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "dms.context_processors.roles",
            ],
        },
    },
]

# --- Servers: the environment, or the embedded default ----------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or embedded.postgres_url()
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
# Pages and the API ask for a few rows at a time: parallel workers would cost more to start (ms)
# than they save. Reports that scan a lot get their own connection (alias) with them on.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c max_parallel_workers_per_gather=0"
REDIS_URL = os.environ.get("REDIS_URL") or embedded.redis_url(db=0)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "dms",
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

CELERY_BROKER_URL = embedded.celery_broker_url(REDIS_URL)
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Follow-up engine ------------------------------------------------------------------------
# Providers per customer channel, their sends per second (0: no cap), and the dispatcher's lease.
FOLLOWUP_CHANNELS = {
    "sms": os.environ.get("FOLLOWUP_SMS_PROVIDER", "followup.channels.ConsoleProvider"),
    "wechat": os.environ.get("FOLLOWUP_WECHAT_PROVIDER", "followup.channels.ConsoleProvider"),
    "email": os.environ.get("FOLLOWUP_EMAIL_PROVIDER", "followup.channels.EmailProvider"),
}
FOLLOWUP_RATE_LIMITS = {"console": int(os.environ.get("FOLLOWUP_CONSOLE_RATE", 0)), "email": 20}
FOLLOWUP_CONSOLE_PATH = os.environ.get("FOLLOWUP_CONSOLE_PATH", "")
FOLLOWUP_LEASE_SECONDS = int(os.environ.get("FOLLOWUP_LEASE_SECONDS", 300))
# Where customers reach the links the DMS sends them (the approval of additional work).
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
APPROVAL_LINK_HOURS = int(os.environ.get("APPROVAL_LINK_HOURS", 24))
# Satisfaction surveys: sent this many days after the delivery, the link valid this many days more.
SURVEY_AFTER_DAYS = int(os.environ.get("SURVEY_AFTER_DAYS", 3))
SURVEY_LINK_DAYS = int(os.environ.get("SURVEY_LINK_DAYS", 14))
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "dms@localhost")

AUTH_USER_MODEL = "crm.User"
AUTHENTICATION_BACKENDS = ["crm.authz.CachedModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Languages and time -----------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# Stored in UTC; each rooftop's own zone is applied at the edges (Dealership.time_zone).
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["dms.permissions.RoleModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "dms.api.Pagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "dms.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dealership Management System API",
    "DESCRIPTION": "Rooftops, customers, vehicles and follow-ups; every list is scoped to the caller's rooftops.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CustomerKindEnum": "crm.choices.CustomerKind",
        "SourceEnum": "crm.choices.CustomerSource",
        "LeadSourceEnum": "sales.choices.LeadSource",
        "ActivityKindEnum": "sales.choices.ActivityKind",
        "FollowUpKindEnum": "followup.choices.FollowUpKind",
        "OutcomeEnum": "followup.choices.Outcome",
        "CallOutcomeEnum": "followup.api.serializers.CALL_OUTCOMES",
        "FollowUpStatusEnum": "followup.choices.FollowUpStatus",
        "AppointmentStatusEnum": "service.choices.AppointmentStatus",
        "RepairOrderStatusEnum": "service.choices.RepairOrderStatus",
        "LineStatusEnum": "service.choices.LineStatus",
        "ApprovalChannelEnum": "service.choices.ApprovalChannel",
        "PaymentMethodEnum": "service.choices.PaymentMethod",
        "ComplaintStatusEnum": "crm.choices.ComplaintStatus",
        "ComplaintSourceEnum": "crm.choices.ComplaintSource",
        "VoucherKindEnum": "crm.choices.VoucherKind",
        "CampaignChannelEnum": "crm.choices.CampaignChannel",
        "RedeemedOnEnum": "crm.vouchers.REDEEMABLE_CHOICES",
    },
}

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"pgserver": {"level": "WARNING"}},
}
