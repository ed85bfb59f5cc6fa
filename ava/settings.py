"""Ava's one settings module, configured from the environment alone.

Every variable is listed in .env.example with its default. With nothing set,
Ava runs on one machine with its embedded defaults (SQLite, in-memory channel
layer, Celery eager, the local AI engine, the local calendar, an outbox for
SMS and email). A value that cannot be read stops the start (ava.env).
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from ava import env

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Core -------------------------------------------------------------------
DEBUG = env.get_bool("DEBUG", False)
SECRET_KEY = env.get_str("SECRET_KEY", "dev-only-insecure-key-set-SECRET_KEY-in-production")
ALLOWED_HOSTS = env.get_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.get_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",  # first, so runserver serves ASGI (websockets included)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "django_htmx",
    "template_partials",
    "communications",
    "scheduling",
    "receptionist",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "ava.urls"
ASGI_APPLICATION = "ava.asgi.application"
WSGI_APPLICATION = None

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
            ],
        },
    },
]

# --- Storage ----------------------------------------------------------------
DATABASES = {"default": env.get_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.get_url("REDIS_URL", "", schemes={"redis", "rediss"})

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -----------------------------------------------------------------
# Without a broker, tasks run in-process when they are sent (the embedded default).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.get_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Retries must finish well inside this, or Redis hands the task to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {}

# --- Auth, i18n, static -----------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/dashboard/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"  # storage; the clinic's own zone is ClinicSettings.time_zone
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the app folders when collectstatic has not been run (dev, tests).
WHITENOISE_USE_FINDERS = True

# --- API --------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    # Staff only unless a view says otherwise.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_PAGINATION_CLASS": "ava.api.Pagination",
    "PAGE_SIZE": 25,
    "EXCEPTION_HANDLER": "ava.api.exception_handler",
    "DATETIME_FORMAT": "iso-8601",
}

# --- Clinic defaults --------------------------------------------------------
# The default region for phone numbers callers give without a country code.
PHONE_DEFAULT_REGION = env.get_str("PHONE_DEFAULT_REGION", "US")
CLINIC_DEFAULT_TIME_ZONE = env.get_time_zone("CLINIC_DEFAULT_TIME_ZONE", "America/New_York")

# --- OpenAI (voice and text) ------------------------------------------------
# No key: the built-in local engine answers, and the UI says it is an offline demo.
OPENAI_API_KEY = env.get_str("OPENAI_API_KEY", "")
OPENAI_BASE_URL = env.get_url("OPENAI_BASE_URL", "", schemes={"http", "https"})
OPENAI_REALTIME_MODEL = env.get_str("OPENAI_REALTIME_MODEL", "gpt-realtime")
OPENAI_TEXT_MODEL = env.get_str("OPENAI_TEXT_MODEL", "gpt-4.1-mini")
OPENAI_SCORING_MODEL = env.get_str("OPENAI_SCORING_MODEL", OPENAI_TEXT_MODEL)

# --- Calendar ---------------------------------------------------------------
GOOGLE_CALENDAR_ID = env.get_str("GOOGLE_CALENDAR_ID", "")
GOOGLE_SERVICE_ACCOUNT_FILE = env.get_str("GOOGLE_SERVICE_ACCOUNT_FILE", "")
GOOGLE_OAUTH_TOKEN_FILE = env.get_str("GOOGLE_OAUTH_TOKEN_FILE", "")
CALENDAR_BACKEND = env.get_choice("CALENDAR_BACKEND", "google" if GOOGLE_CALENDAR_ID else "local", choices=("local", "google"))
if CALENDAR_BACKEND == "google" and not GOOGLE_CALENDAR_ID:
    raise ImproperlyConfigured("CALENDAR_BACKEND=google needs GOOGLE_CALENDAR_ID.")

# --- SMS (Twilio) -----------------------------------------------------------
TWILIO_ACCOUNT_SID = env.get_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env.get_str("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = env.get_str("TWILIO_FROM_NUMBER", "")
# The URL Twilio signs: the public address of the webhook, as seen behind any proxy.
TWILIO_WEBHOOK_BASE_URL = env.get_url("TWILIO_WEBHOOK_BASE_URL", "", schemes={"http", "https"})

# --- Email ------------------------------------------------------------------
EMAIL_BACKEND = env.get_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.get_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env.get_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env.get_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.get_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.get_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env.get_str("DEFAULT_FROM_EMAIL", "Ava <ava@localhost>")
SENDGRID_API_KEY = env.get_str("SENDGRID_API_KEY", "")

# --- Logging ----------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.get_choice("LOG_LEVEL", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))},
}
