"""Ava's one settings module, configured from the environment alone.

Every variable is listed in .env.example with its default. With nothing set,
Ava runs on one machine with its embedded defaults (SQLite, a SQLite channel
layer, Celery on a filesystem broker, the local AI engine, the local calendar, an outbox for
SMS and email). A value that cannot be read stops the start (ava.env).
"""

from datetime import timedelta
from pathlib import Path

import csp.constants as csp
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from ava import env

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Core -------------------------------------------------------------------
DEBUG = env.get_bool("DEBUG", False)
_DEV_SECRET_KEY = "dev-only-insecure-key-set-SECRET_KEY-in-production"
SECRET_KEY = env.get_str("SECRET_KEY", _DEV_SECRET_KEY)
ALLOWED_HOSTS = env.get_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.get_list("CSRF_TRUSTED_ORIGINS", [])

# --- Production security ------------------------------------------------------
# HTTPS=1 is the production switch: secure cookies, HSTS and the redirect to https,
# so `manage.py check --deploy` is clean. Off by default for http://127.0.0.1.
HTTPS = env.get_bool("HTTPS", False)
if HTTPS and SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when HTTPS=1 (production).")
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.get_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.get_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env.get_bool("SECURE_HSTS_PRELOAD", HTTPS)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
if env.get_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Staff sessions end after this much inactivity (every request renews the clock).
SESSION_IDLE_MINUTES = env.get_int("SESSION_IDLE_MINUTES", 15, minimum=1)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True

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
    "conventions",  # what every app shares; imports no app
    "communications",
    "scheduling",
    "receptionist",
    "analytics",
    "housekeeping",
    "demo",  # seed_demo only; nothing in the product imports it
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
    "scheduling.middleware.ClinicTimeZoneMiddleware",
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
                "scheduling.context_processors.clinic",
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
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # `make run` is three processes (web, worker, beat), and the worker's live updates (scoring, Ava's text
    # replies, reminders) must reach the dashboards the web process holds: channels-lite's SQLite layer, in a
    # file of its own so the app's writes never wait on it. "memory" is one process's layer (the test suite,
    # where tasks run in-process).
    EMBEDDED_CHANNEL_LAYER = env.get_choice("EMBEDDED_CHANNEL_LAYER", "sqlite", choices=("sqlite", "memory"))
    if EMBEDDED_CHANNEL_LAYER == "sqlite":
        # Empty (as in a .env copied from .env.example) also means the default.
        CHANNEL_LAYER_DB = Path(env.get_str("CHANNEL_LAYER_DB") or BASE_DIR / "var" / "channels.sqlite3")
        # The web process looks for new messages this often: the most a live update waits (bench/README.md).
        CHANNEL_LAYER_POLL_SECONDS = env.get_float("CHANNEL_LAYER_POLL_SECONDS", 0.05, minimum=0.01, maximum=5.0)
        DATABASES["channels"] = {
            "ENGINE": "django.db.backends.sqlite3", "NAME": CHANNEL_LAYER_DB,
            # WAL: the web's polling reads never block the worker's writes.
            "OPTIONS": {"timeout": 5, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
        }
        DATABASE_ROUTERS = ["housekeeping.routers.ChannelLayerRouter"]
        INSTALLED_APPS += ["channels_lite"]
        CHANNEL_LAYERS = {"default": {"BACKEND": "channels_lite.layers.core.SQLiteChannelLayer", "CONFIG": {
            "database": "channels", "polling_interval": CHANNEL_LAYER_POLL_SECONDS}}}
    else:
        CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Celery -----------------------------------------------------------------
# Tasks go through a broker to a worker, as in production; beat sends the periodic ones (`make run`
# starts both). Embedded default: kombu's filesystem transport under CELERY_BROKER_DIR, which needs
# no service, keeps the SQLite file free of queue writes and, unlike the SQLAlchemy transport,
# broadcasts (so /health can ping the worker). With REDIS_URL set, Redis is the broker.
CELERY_BROKER_URL = env.get_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
CELERY_BROKER_DIR = Path(env.get_str("CELERY_BROKER_DIR", str(BASE_DIR / "var" / "broker")))
CELERY_RESULT_BACKEND = None
# Tests turn eager on for themselves (conftest.py); set 1 to run tasks inside the request instead.
CELERY_TASK_ALWAYS_EAGER = env.get_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Retries must finish well inside this, or Redis hands the task to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
if CELERY_BROKER_URL.startswith("filesystem:"):
    # One folder for every queue (producers and consumers read and write the same files); polled
    # every 0.1 s, so a text's reply starts within a tenth of a second (bench/README.md).
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"), "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "control_folder": str(CELERY_BROKER_DIR / "control"), "polling_interval": 0.1,
    }
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {}
# Beat records a heartbeat every 15 s (housekeeping.beat), so
# /health can tell a beat that stopped from one with nothing due.
CELERY_BEAT_SCHEDULER = "housekeeping.beat:RecordingScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = env.get_str("CELERY_BEAT_SCHEDULE_FILENAME") or str(BASE_DIR / "var" / "celerybeat-schedule")

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
# Call recordings: private files, served only to staff through an authenticated view (never a public URL).
# The local filesystem by default; S3-compatible object storage through django-storages by settings alone
# (RECORDINGS_STORAGE=s3 with AWS_STORAGE_BUCKET_NAME and, for non-AWS stores, AWS_S3_ENDPOINT_URL;
# credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the machine's role).
RECORDINGS_ENABLED = env.get_bool("RECORDINGS_ENABLED", True)
RECORDINGS_ROOT = Path(env.get_str("RECORDINGS_ROOT") or BASE_DIR / "var" / "recordings")
# Where a call's file is written while the call runs (always local; moved into the storage at the end).
RECORDINGS_SPOOL_DIR = Path(env.get_str("RECORDINGS_SPOOL_DIR") or BASE_DIR / "var" / "recordings-spool")
RECORDINGS_STORAGE = env.get_choice("RECORDINGS_STORAGE", "filesystem", choices=("filesystem", "s3"))
if RECORDINGS_STORAGE == "s3":
    STORAGES["recordings"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": env.get_str("AWS_STORAGE_BUCKET_NAME", ""),
        "endpoint_url": env.get_str("AWS_S3_ENDPOINT_URL", "") or None,
        "region_name": env.get_str("AWS_S3_REGION_NAME", "") or None,
        "location": env.get_str("RECORDINGS_S3_PREFIX", "recordings"),
        "default_acl": "private", "querystring_auth": True, "file_overwrite": False,
    }}
else:
    STORAGES["recordings"] = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {
        "location": RECORDINGS_ROOT, "base_url": None}}
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
    "DEFAULT_PAGINATION_CLASS": "conventions.api.Pagination",
    "PAGE_SIZE": 25,
    "EXCEPTION_HANDLER": "conventions.api.exception_handler",
    "DATETIME_FORMAT": "iso-8601",
}

# --- API: throttling and the OpenAPI schema (drf-spectacular) -----------------
# Requests per client: "N/second|minute|hour|day". Anonymous callers are counted by address,
# signed-in staff and tokens by account. Throttles run after the permission check, so
# they limit what an allowed caller may do; refused requests are not counted.
API_THROTTLE_ANON = env.get_str("API_THROTTLE_ANON", "60/minute")
API_THROTTLE_USER = env.get_str("API_THROTTLE_USER", "1200/minute")
for _name, _rate in (("API_THROTTLE_ANON", API_THROTTLE_ANON), ("API_THROTTLE_USER", API_THROTTLE_USER)):
    _count, _, _period = _rate.partition("/")
    if not (_count.isdigit() and int(_count) > 0 and _period in {"second", "minute", "hour", "day"}):
        raise ImproperlyConfigured(f"{_name}={_rate!r} is not a rate; use N/second, N/minute, N/hour or N/day.")
REST_FRAMEWORK |= {
    "DEFAULT_THROTTLE_CLASSES": ["conventions.throttling.AnonRateThrottle", "conventions.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": API_THROTTLE_ANON, "user": API_THROTTLE_USER},
    "DEFAULT_SCHEMA_CLASS": "conventions.openapi.AutoSchema",
}
INSTALLED_APPS += ["drf_spectacular", "drf_spectacular_sidecar"]
SPECTACULAR_SETTINGS = {
    "TITLE": "Ava API",
    "DESCRIPTION": (
        "Ava's staff API. Sign in (session) or send `Authorization: Token <key>`; staff accounts only "
        "unless an operation says otherwise. Lists take `page` and `page_size`; every error is "
        '`{"error": {"code", "message", "details"}}`. Times are ISO 8601 with the clinic\'s offset.'
    ),
    "VERSION": "1.0.0",
    # The schema and its viewers are for staff, like the API they describe.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAdminUser"],
    "SERVE_INCLUDE_SCHEMA": False,
    # Served from this server (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "communications.models.Channel",
        "ConversationStatusEnum": "communications.models.Conversation.Status",
        "DeliveryStatusEnum": "communications.models.DeliveryStatus",
        "AppointmentStatusEnum": "scheduling.models.Appointment.Status",
        "BookedByEnum": "scheduling.models.Appointment.BookedBy",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "ava.schema.describe_health",
    ],
}

# --- Clinic defaults --------------------------------------------------------
# The default region for phone numbers callers give without a country code.
PHONE_DEFAULT_REGION = env.get_str("PHONE_DEFAULT_REGION", "US")
CLINIC_DEFAULT_TIME_ZONE = env.get_time_zone("CLINIC_DEFAULT_TIME_ZONE", "America/New_York")

# --- OpenAI (voice and text) ------------------------------------------------
# No key: the built-in local engine answers, and the UI says it is an offline demo.
OPENAI_API_KEY = env.get_str("OPENAI_API_KEY", "")
OPENAI_BASE_URL = env.get_url("OPENAI_BASE_URL", "", schemes={"http", "https"})
# Current models in the installed openai SDK; a configured one with an announced shutdown date
# is warned about at start (receptionist/checks.py).
OPENAI_REALTIME_MODEL = env.get_str("OPENAI_REALTIME_MODEL", "gpt-realtime-2.1")
OPENAI_TEXT_MODEL = env.get_str("OPENAI_TEXT_MODEL", "gpt-5.4-mini")
OPENAI_SCORING_MODEL = env.get_str("OPENAI_SCORING_MODEL", OPENAI_TEXT_MODEL)

# What each conversation cost (communications/usage.py): USD per 1M tokens, or per minute of audio where
# a transcription model bills by duration, read from OpenAI's model pages
# (developers.openai.com/api/docs/models/<model>) on the date beside each. A model missing here is priced
# as unknown, never as zero. MODEL_PRICES_JSON adds models or replaces one's prices, e.g.
# {"gpt-realtime-2.1": {"as_of": "2027-01-05", "text_in": "4", "cached_text_in": "0.4", ...}}.
DEFAULT_MODEL_PRICES = {
    "gpt-realtime-2.1": {"as_of": "2026-11-29", "text_in": "4.00", "cached_text_in": "0.40", "text_out": "24.00",
                         "audio_in": "32.00", "cached_audio_in": "0.40", "audio_out": "64.00"},
    "gpt-realtime-2.1-mini": {"as_of": "2026-11-29", "text_in": "0.60", "cached_text_in": "0.06", "text_out": "2.40",
                              "audio_in": "10.00", "cached_audio_in": "0.30", "audio_out": "20.00"},
    "gpt-realtime-2": {"as_of": "2026-11-29", "text_in": "4.00", "cached_text_in": "0.40", "text_out": "24.00",
                       "audio_in": "32.00", "cached_audio_in": "0.40", "audio_out": "64.00"},
    "gpt-realtime-1.5": {"as_of": "2026-11-29", "text_in": "4.00", "cached_text_in": "0.40", "text_out": "16.00",
                         "audio_in": "32.00", "cached_audio_in": "0.40", "audio_out": "64.00"},
    "gpt-transcribe": {"as_of": "2026-11-29", "per_minute": "0.0045"},
    "gpt-realtime-whisper": {"as_of": "2026-11-29", "per_minute": "0.017"},
    "gpt-5.4": {"as_of": "2026-11-29", "text_in": "2.50", "cached_text_in": "0.25", "text_out": "15.00"},
    "gpt-5.4-mini": {"as_of": "2026-11-29", "text_in": "0.75", "cached_text_in": "0.075", "text_out": "4.50"},
    "gpt-5.4-nano": {"as_of": "2026-11-29", "text_in": "0.20", "cached_text_in": "0.02", "text_out": "1.25"},
    # The built-in local engine (no key): nothing is spent.
    "local": {"as_of": "built-in", **dict.fromkeys(env.PRICE_FIELDS, "0")},
}
MODEL_PRICES = env.get_model_prices("MODEL_PRICES_JSON", DEFAULT_MODEL_PRICES)

# --- Voice calls (receptionist app; docs/voice-protocol.md) -------------------
# The voice and speech recognition OpenAI uses, and who decides the end of a caller's turn:
# "none" (the call page's VAD commits, the default), or OpenAI's "server_vad" / "semantic_vad".
VOICE_VOICE = env.get_str("VOICE_VOICE", "marin")
VOICE_TRANSCRIPTION_MODEL = env.get_str("VOICE_TRANSCRIPTION_MODEL", "gpt-transcribe")
# The most tokens one spoken response may use (OpenAI allows 1-4096; audio is counted by the second, so
# this is room for a long answer): a runaway answer is cut off, and
# the caller hears a short apology instead of silence.
VOICE_MAX_OUTPUT_TOKENS = env.get_int("VOICE_MAX_OUTPUT_TOKENS", 2048, minimum=1, maximum=4096)
VOICE_TURN_DETECTION = env.get_choice("VOICE_TURN_DETECTION", "none", choices=("none", "server_vad", "semantic_vad"))
# Abuse limits: calls open at once from one address, and the longest call (OpenAI ends a session at 60 min).
VOICE_MAX_CONCURRENT_CALLS_PER_IP = env.get_int("VOICE_MAX_CONCURRENT_CALLS_PER_IP", 3, minimum=1)
VOICE_NEW_CALLS_PER_MINUTE_PER_IP = env.get_int("VOICE_NEW_CALLS_PER_MINUTE_PER_IP", 6, minimum=1)
# A call needs the signed token issued with the call page; an older page fetches a new one.
VOICE_CALL_TOKEN_MAX_AGE_SECONDS = env.get_int("VOICE_CALL_TOKEN_MAX_AGE_SECONDS", 900, minimum=30)
VOICE_MAX_CALL_SECONDS = env.get_int("VOICE_MAX_CALL_SECONDS", 1200, minimum=1, maximum=3 * 3600)
# The call page's smart commit (passed to the page): end of turn this long after the last voiced frame,
# sooner after a short utterance; speech starts after VOICE_SPEECH_START_MS of voiced frames, and the
# VOICE_PREROLL_MS before it are sent too so the caller's first syllables are kept.
VOICE_COMMIT_SILENCE_MS = env.get_int("VOICE_COMMIT_SILENCE_MS", 300, minimum=50, maximum=5000)
VOICE_SHORT_COMMIT_SILENCE_MS = env.get_int("VOICE_SHORT_COMMIT_SILENCE_MS", 120, minimum=20, maximum=5000)
VOICE_SHORT_UTTERANCE_MS = env.get_int("VOICE_SHORT_UTTERANCE_MS", 1000, minimum=0, maximum=10000)
VOICE_SPEECH_START_MS = env.get_int("VOICE_SPEECH_START_MS", 100, minimum=10, maximum=2000)
VOICE_PREROLL_MS = env.get_int("VOICE_PREROLL_MS", 300, minimum=0, maximum=2000)
# The call page's VAD thresholds (passed to the page by receptionist.views.call_page): a frame is voiced
# when louder than VOICE_VAD_MIN_LEVEL_DBFS and VOICE_VAD_SNR_DB above the noise floor; while Ava plays
# it must also beat her echo (learned per stretch of playback) by VOICE_VAD_ECHO_MARGIN_DB.
VOICE_VAD_MIN_LEVEL_DBFS = env.get_float("VOICE_VAD_MIN_LEVEL_DBFS", -45.0, minimum=-90, maximum=-10)
VOICE_VAD_SNR_DB = env.get_float("VOICE_VAD_SNR_DB", 10.0, minimum=0, maximum=40)
VOICE_VAD_ECHO_MARGIN_DB = env.get_float("VOICE_VAD_ECHO_MARGIN_DB", 10.0, minimum=0, maximum=40)
# The call page's test hook: 0 (the default) leaves window.__avaCall out of the page; N > 0 exposes the
# page's view of the call there, keeping the last N entries of each of its lists (browser tests set it).
VOICE_CALL_PAGE_TEST_HOOK = env.get_int("VOICE_CALL_PAGE_TEST_HOOK", 0, minimum=0, maximum=100000)
# Audio frames: the page sends VOICE_FRAME_MS per frame (bench/README.md, "Voice relay", says why);
# a frame over VOICE_MAX_FRAME_BYTES is refused (the default holds the pre-roll in one frame).
VOICE_FRAME_MS = env.get_int("VOICE_FRAME_MS", 40, minimum=10, maximum=200)
VOICE_MAX_FRAME_BYTES = env.get_int("VOICE_MAX_FRAME_BYTES", 32768, minimum=960, maximum=1048576)
# Audio queued toward a slow caller beyond this many milliseconds is dropped (memory stays flat).
VOICE_OUTBOUND_BUFFER_MS = env.get_int("VOICE_OUTBOUND_BUFFER_MS", 20000, minimum=1000, maximum=600000)
# A tool still running after this long makes Ava say a short filler ("one moment while I check").
VOICE_FILLER_AFTER_MS = env.get_int("VOICE_FILLER_AFTER_MS", 700, minimum=0, maximum=10000)
VOICE_UPSTREAM_CONNECT_TIMEOUT = env.get_float("VOICE_UPSTREAM_CONNECT_TIMEOUT", 10.0, minimum=0.1, maximum=120)
# The caller's audio goes up to OpenAI in appends of at least this many milliseconds (fewer messages per
# call; a commit sends what is held first, a cancel or truncate goes ahead of it). 0: every frame at once,
# as when OpenAI decides the turn (VOICE_TURN_DETECTION server_vad or semantic_vad).
VOICE_UPSTREAM_APPEND_MS = env.get_int("VOICE_UPSTREAM_APPEND_MS", 100, minimum=0, maximum=1000)

# --- Phone calls (Twilio number -> /webhooks/twilio/voice; docs/phone.md) ---------------------------
# Where callers are put through (E.164): transfers, and every call while Ava cannot answer (no OpenAI key,
# OpenAI unreachable). Empty: the caller may leave a recorded message instead.
FRONT_DESK_PHONE = env.get_str("FRONT_DESK_PHONE", "")
if FRONT_DESK_PHONE and not (FRONT_DESK_PHONE[:1] == "+" and FRONT_DESK_PHONE[1:].isdigit()
                             and 7 <= len(FRONT_DESK_PHONE) <= 16):
    raise ImproperlyConfigured("FRONT_DESK_PHONE must be a number in E.164, such as +12125550100.")
# Where the front desk is emailed when a phone caller leaves a message (FRONT_DESK_PHONE gets a text).
FRONT_DESK_EMAIL = env.get_str("FRONT_DESK_EMAIL", "").strip()
if FRONT_DESK_EMAIL and ("@" not in FRONT_DESK_EMAIL or " " in FRONT_DESK_EMAIL):
    raise ImproperlyConfigured("FRONT_DESK_EMAIL must be an email address, such as desk@clinic.example.")
# The media stream must connect within this many seconds of the call's webhook (its signed token expires).
PHONE_STREAM_TOKEN_MAX_AGE_SECONDS = env.get_int("PHONE_STREAM_TOKEN_MAX_AGE_SECONDS", 60, minimum=5, maximum=3600)
# Phone calls Ava answers at once (each holds an OpenAI session); beyond it callers go to the front desk.
PHONE_MAX_CONCURRENT_CALLS = env.get_int("PHONE_MAX_CONCURRENT_CALLS", 20, minimum=1, maximum=1000)
PHONE_MAX_CALL_SECONDS = env.get_int("PHONE_MAX_CALL_SECONDS", VOICE_MAX_CALL_SECONDS, minimum=1, maximum=3 * 3600)
# How long the front desk's phone rings on a transfer before Ava takes a message.
PHONE_TRANSFER_RING_SECONDS = env.get_int("PHONE_TRANSFER_RING_SECONDS", 20, minimum=5, maximum=120)
# The longest message a caller may record when nobody can take the call.
PHONE_MESSAGE_MAX_SECONDS = env.get_int("PHONE_MESSAGE_MAX_SECONDS", 120, minimum=10, maximum=3600)

# --- Analytics: scoring and daily metrics (analytics app) ----------------------
# Seconds one scoring call to OpenAI may take before it counts as a timeout (and is retried).
ANALYTICS_SCORING_TIMEOUT = env.get_float("ANALYTICS_SCORING_TIMEOUT", 30.0, minimum=1, maximum=600)
# Retries on 429, 5xx and timeouts, with Celery's exponential backoff and full jitter from the base delay
# (whole seconds; analytics.tasks.retry_wait): each wait is at most ANALYTICS_SCORING_RETRY_MAX_DELAY and at
# most its share of a quarter of the broker's visibility timeout (visibility / (4 × retries)), so all the
# waits together fit well inside it.
ANALYTICS_SCORING_MAX_RETRIES = env.get_int("ANALYTICS_SCORING_MAX_RETRIES", 5, minimum=0, maximum=10)
ANALYTICS_SCORING_RETRY_BASE_DELAY = env.get_float("ANALYTICS_SCORING_RETRY_BASE_DELAY", 5.0, minimum=0.1, maximum=600)
ANALYTICS_SCORING_RETRY_MAX_DELAY = env.get_float("ANALYTICS_SCORING_RETRY_MAX_DELAY", 120.0, minimum=1, maximum=3600)
# A scoring claim older than this is taken to belong to a dead worker and may be taken again.
ANALYTICS_SCORING_CLAIM_TIMEOUT = env.get_int("ANALYTICS_SCORING_CLAIM_TIMEOUT", 600, minimum=60)
# Conversations left active this long without activity are closed as abandoned (and scored).
ANALYTICS_STALE_CONVERSATION_MINUTES = env.get_int("ANALYTICS_STALE_CONVERSATION_MINUTES", 30, minimum=1)
CELERY_BEAT_SCHEDULE["analytics-close-stale-conversations"] = {
    "task": "analytics.tasks.close_stale_conversations", "schedule": crontab(minute="*/5"),
}
CELERY_BEAT_SCHEDULE["analytics-rollup-today"] = {
    "task": "analytics.tasks.rollup_daily_metrics", "schedule": crontab(minute="2-59/5"), "kwargs": {"date": "today"},
}
# "Yesterday" is the clinic's yesterday, and its midnight is in the clinic's zone (a database
# setting), so this runs every hour: yesterday is settled within the hour after local midnight,
# including scores that land late. Each run recomputes one day and upserts, so repeats are harmless.
CELERY_BEAT_SCHEDULE["analytics-rollup-yesterday"] = {
    "task": "analytics.tasks.rollup_daily_metrics", "schedule": crontab(minute=17), "kwargs": {"date": "yesterday"},
}

# --- Calendar ---------------------------------------------------------------
GOOGLE_CALENDAR_ID = env.get_str("GOOGLE_CALENDAR_ID", "")
GOOGLE_SERVICE_ACCOUNT_FILE = env.get_str("GOOGLE_SERVICE_ACCOUNT_FILE", "")
GOOGLE_OAUTH_TOKEN_FILE = env.get_str("GOOGLE_OAUTH_TOKEN_FILE", "")
CALENDAR_BACKEND = env.get_choice("CALENDAR_BACKEND", "google" if GOOGLE_CALENDAR_ID else "local",
                                  choices=("local", "google", "boulevard"))
if CALENDAR_BACKEND == "google" and not GOOGLE_CALENDAR_ID:
    raise ImproperlyConfigured("CALENDAR_BACKEND=google needs GOOGLE_CALENDAR_ID.")
# Boulevard's Client API (docs/boulevard.md): HTTP Basic with the API key, one business and location.
BOULEVARD_API_KEY = env.get_str("BOULEVARD_API_KEY", "")
BOULEVARD_BUSINESS_ID = env.get_str("BOULEVARD_BUSINESS_ID", "")
BOULEVARD_LOCATION_ID = env.get_str("BOULEVARD_LOCATION_ID", "")
# Up to /api/2020-01; the business id and /client follow. Live: https://dashboard.boulevard.io/api/2020-01
BOULEVARD_API_URL = env.get_url("BOULEVARD_API_URL", "https://sandbox.joinblvd.com/api/2020-01",
                                schemes={"http", "https"}).rstrip("/")
BOULEVARD_TIMEOUT_SECONDS = env.get_float("BOULEVARD_TIMEOUT_SECONDS", 10.0, minimum=0.5, maximum=120.0)
# Bookable times read from Boulevard are reused this long (a booking always reads them afresh).
BOULEVARD_AVAILABILITY_CACHE_SECONDS = env.get_int("BOULEVARD_AVAILABILITY_CACHE_SECONDS", 60, minimum=0, maximum=900)
# The clinic's online booking page, texted when Boulevard needs a card to book (never taken by voice).
BOULEVARD_BOOKING_URL = env.get_url("BOULEVARD_BOOKING_URL", "", schemes={"https", "http"})
if CALENDAR_BACKEND == "boulevard":
    _missing = [name for name in ("BOULEVARD_API_KEY", "BOULEVARD_BUSINESS_ID", "BOULEVARD_LOCATION_ID")
                if not globals()[name]]
    if _missing:
        raise ImproperlyConfigured(f"CALENDAR_BACKEND=boulevard needs {', '.join(_missing)}.")
# The catalogue (services, staff, the location) comes from Boulevard hourly; a no-op on other backends.
CELERY_BEAT_SCHEDULE["scheduling-sync-boulevard"] = {
    "task": "scheduling.tasks.sync_boulevard_catalogue", "schedule": crontab(minute=41),
}

# --- Scheduling (scheduling app) ---------------------------------------------
# Open start times are offered on this grid, in minutes of the clinic's wall clock.
SCHEDULING_SLOT_INTERVAL_MINUTES = env.get_int("SCHEDULING_SLOT_INTERVAL_MINUTES", 15, minimum=5, maximum=240)
# The Calendar v3 base URL, ending in /calendar/v3/; empty: Google's own. Tests point it at a local fake.
GOOGLE_CALENDAR_API_URL = env.get_url("GOOGLE_CALENDAR_API_URL", "", schemes={"http", "https"})
# A booking waits at most this long for one Google call before it gives up (CalendarUnavailable).
GOOGLE_CALENDAR_TIMEOUT_SECONDS = env.get_float("GOOGLE_CALENDAR_TIMEOUT_SECONDS", 10.0, minimum=0.5, maximum=120.0)

# --- SMS (Twilio) -----------------------------------------------------------
TWILIO_ACCOUNT_SID = env.get_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env.get_str("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = env.get_str("TWILIO_FROM_NUMBER", "")
# The URL Twilio signs: the public address of the webhook, as seen behind any proxy.
TWILIO_WEBHOOK_BASE_URL = env.get_url("TWILIO_WEBHOOK_BASE_URL", "", schemes={"http", "https"})
# The clinic's WhatsApp sender (E.164, with or without Twilio's "whatsapp:" prefix), when it is not
# TWILIO_FROM_NUMBER; WhatsApp arrives on the same webhook as SMS.
TWILIO_WHATSAPP_FROM = env.get_str("TWILIO_WHATSAPP_FROM", "").removeprefix("whatsapp:")
if TWILIO_WHATSAPP_FROM and not TWILIO_WHATSAPP_FROM.startswith("+"):
    raise ImproperlyConfigured("TWILIO_WHATSAPP_FROM must be a number in E.164, such as +12125550100.")

# --- Email ------------------------------------------------------------------
EMAIL_BACKEND = env.get_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.get_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env.get_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env.get_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.get_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.get_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env.get_str("DEFAULT_FROM_EMAIL", "Ava <ava@localhost>")
SENDGRID_API_KEY = env.get_str("SENDGRID_API_KEY", "")

# --- SMS and email: threads, delivery, webhooks, confirmations (communications, receptionist) ---
# A message joins its customer's open conversation on the same channel when that conversation's last
# activity is this recent; otherwise the old one ends (and is scored) and a new one starts.
SMS_THREAD_WINDOW_MINUTES = env.get_int("SMS_THREAD_WINDOW_MINUTES", 45, minimum=1, maximum=7 * 24 * 60)
EMAIL_THREAD_WINDOW_MINUTES = env.get_int("EMAIL_THREAD_WINDOW_MINUTES", SMS_THREAD_WINDOW_MINUTES, minimum=1,
                                          maximum=30 * 24 * 60)
# Twilio's REST base URL (empty: Twilio's own, https://api.twilio.com); tests point it at a local fake.
TWILIO_API_BASE_URL = env.get_url("TWILIO_API_BASE_URL", "", schemes={"http", "https"})
TWILIO_TIMEOUT_SECONDS = env.get_float("TWILIO_TIMEOUT_SECONDS", 10.0, minimum=0.5, maximum=120.0)
# Texts go out through Twilio when the account, token and number are all set; else they stay in the outbox.
if (TWILIO_ACCOUNT_SID or TWILIO_FROM_NUMBER) and not (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER):
    raise ImproperlyConfigured("Sending SMS needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER together.")
SMS_DELIVERY = "twilio" if TWILIO_ACCOUNT_SID else "outbox"
# Email goes out through EMAIL_BACKEND ("send": SendGrid through django-anymail when SENDGRID_API_KEY is set
# and EMAIL_BACKEND is not) or stays in the outbox, the default when neither is set.
_EMAIL_BACKEND_GIVEN = bool(env.get_str("EMAIL_BACKEND", ""))
if SENDGRID_API_KEY and not _EMAIL_BACKEND_GIVEN:
    EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
EMAIL_DELIVERY = env.get_choice("EMAIL_DELIVERY", "send" if SENDGRID_API_KEY or _EMAIL_BACKEND_GIVEN else "outbox",
                                choices=("send", "outbox"))
# SendGrid's v3 base URL ending in /v3/ (empty: SendGrid's own); tests point it at a local fake.
SENDGRID_API_URL = env.get_url("SENDGRID_API_URL", "", schemes={"http", "https"})
# "user:password" that SendGrid's Inbound Parse URL carries (https://user:password@host/webhooks/sendgrid/inbound/).
# Without it the inbound email webhook refuses every request: an unsigned webhook is never accepted.
ANYMAIL_WEBHOOK_SECRET = env.get_str("ANYMAIL_WEBHOOK_SECRET", "")
ANYMAIL = {"SENDGRID_API_KEY": SENDGRID_API_KEY, "WEBHOOK_SECRET": ANYMAIL_WEBHOOK_SECRET}
if SENDGRID_API_URL:
    ANYMAIL["SENDGRID_API_URL"] = SENDGRID_API_URL
INSTALLED_APPS += ["anymail"]
# A send that fails for a passing reason (network, 429, 5xx) is retried this many times with backoff.
DELIVERY_MAX_RETRIES = env.get_int("DELIVERY_MAX_RETRIES", 5, minimum=0, maximum=10)
# The text agent (SMS and email replies): seconds per OpenAI call, and tool rounds per reply.
TEXT_AGENT_TIMEOUT_SECONDS = env.get_float("TEXT_AGENT_TIMEOUT_SECONDS", 30.0, minimum=1, maximum=300)
TEXT_AGENT_MAX_TOOL_ROUNDS = env.get_int("TEXT_AGENT_MAX_TOOL_ROUNDS", 6, minimum=1, maximum=20)
TEXT_AGENT_MAX_RETRIES = env.get_int("TEXT_AGENT_MAX_RETRIES", 3, minimum=0, maximum=10)
# Appointment reminders go this many hours before the start (beat, every 10 minutes; each one once).
REMINDER_HOURS_BEFORE = env.get_int("REMINDER_HOURS_BEFORE", 24, minimum=1, maximum=7 * 24)
CELERY_BEAT_SCHEDULE["receptionist-appointment-reminders"] = {
    "task": "receptionist.tasks.send_appointment_reminders", "schedule": crontab(minute="*/10"),
}
CELERY_BEAT_SCHEDULE["communications-close-timed-out-threads"] = {
    "task": "communications.tasks.close_timed_out_threads", "schedule": crontab(minute="1-59/5"),
}

# --- Protecting patients' data: access, sign-in lockout, CSP, retention (issue 10) ----------
# Staff sign in for the dashboard and the API; owners (superusers, or staff in the "Owners" group)
# also have Django admin and the audit log (conventions/access.py). The public parts: the call page, /health,
# signing in and out, and the webhooks, which check their providers' signatures.
AUTHENTICATION_BACKENDS = [
    "conventions.access.LockoutBackend",  # django-axes: refuses a locked-out address and username first
    "django.contrib.auth.backends.ModelBackend",
    "conventions.access.OwnersBackend",  # owners hold every admin permission
]
# The client's address (audit log, sign-in lockout) is REMOTE_ADDR unless a proxy in front appends
# the address it saw to X-Forwarded-For and this says to trust it; otherwise anyone could forge it.
TRUST_X_FORWARDED_FOR = env.get_bool("TRUST_X_FORWARDED_FOR", False)
# django-axes: after AXES_FAILURE_LIMIT failed sign-ins from one address for one username, that
# username is locked from that address (others are not) for AXES_COOLOFF_MINUTES.
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, as django-axes asks
AXES_FAILURE_LIMIT = env.get_int("AXES_FAILURE_LIMIT", 5, minimum=1, maximum=100)
AXES_COOLOFF_MINUTES = env.get_int("AXES_COOLOFF_MINUTES", 15, minimum=1, maximum=7 * 24 * 60)
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "conventions.access.locked_out"  # a page that says what happened and for how long
AXES_CLIENT_IP_CALLABLE = "conventions.access.client_address"
# Content Security Policy (django-csp): only this server's scripts, styles, images, sockets and
# workers; no inline scripts, no framing. The docs viewers relax it for themselves (ava/urls.py).
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],  # the call page's AudioWorklet modules too
        "style-src": [csp.SELF],
        # Positions and bar lengths in the dashboard's markup (calendar grid, bar charts) are
        # style attributes; <style> elements and style sheets stay limited to this server.
        "style-src-attr": [csp.UNSAFE_INLINE],
        "img-src": [csp.SELF, "data:"],
        "font-src": [csp.SELF],
        # 'self' covers ws:// and wss:// to this same host (CSP Level 3; tested in Chromium).
        "connect-src": [csp.SELF],
        "media-src": [csp.SELF, "blob:"],
        "worker-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "frame-ancestors": [csp.NONE],
        "form-action": [csp.SELF],
    },
}
if HTTPS:
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["upgrade-insecure-requests"] = True
# Retention: messages of conversations that ended more than this many days ago are redacted every
# night (their outcome, score, channel and times stay, and so do the daily metrics); 0 keeps them forever.
TRANSCRIPT_RETENTION_DAYS = env.get_int("TRANSCRIPT_RETENTION_DAYS", 365, minimum=0, maximum=100 * 365)
# Recordings are removed with the transcript's words, or sooner with a retention of their own (0: with the words).
RECORDING_RETENTION_DAYS = env.get_int("RECORDING_RETENTION_DAYS", 0, minimum=0, maximum=100 * 365)
# Conversations redacted per transaction (the job loops until none are left).
RETENTION_BATCH_SIZE = env.get_int("RETENTION_BATCH_SIZE", 200, minimum=1, maximum=10000)
CELERY_BEAT_SCHEDULE["communications-redact-expired-transcripts"] = {
    "task": "communications.tasks.redact_expired_transcripts", "schedule": crontab(hour=3, minute=41),
}
# Recordings past RECORDING_RETENTION_DAYS go, and files an earlier removal could not delete are retried.
CELERY_BEAT_SCHEDULE["communications-remove-expired-recordings"] = {
    "task": "communications.tasks.remove_expired_recordings", "schedule": crontab(hour=3, minute=11),
}

# --- Logging ----------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Phone numbers and email addresses are masked in every log line (ava/logging.py).
    "formatters": {"plain": {"()": "ava.logging.MaskingFormatter", "format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.get_choice("LOG_LEVEL", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))},
}
