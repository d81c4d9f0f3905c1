"""The Docker deployment: docker-compose.yml, Dockerfile, .env.example and .dockerignore.

No Docker engine is needed. The compose file is validated against the official Compose
Specification JSON schema (the copy check-jsonschema ships as its builtin schema
``vendor.compose-spec``), and what a user relies on is asserted directly: the start order,
the healthchecks, the shared configuration, and that .env.example configures the production
settings for the compose services. No test touches the database.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import threading
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest
import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERIGNORE = ROOT / ".dockerignore"

APP_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING_APP_SERVICES = ("web", "worker", "beat")
MIN_SECRET_KEY_LENGTH = 50  # dms.settings.prod refuses anything shorter


# --- Loading ---------------------------------------------------------------------------------


@cache
def compose_text() -> str:
    return COMPOSE_FILE.read_text(encoding="utf-8")


def compose() -> dict:
    """A fresh parse each call, so a test may mutate what it gets."""
    return yaml.safe_load(compose_text())


@cache
def compose_schema() -> dict:
    return get_builtin_schema("vendor.compose-spec")


def schema_errors(document: dict) -> list[str]:
    schema = compose_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema)
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '<root>'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    ]


@cache
def env_example() -> dict[str, str]:
    """NAME=value lines of .env.example (comments and blank lines skipped)."""
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep, f".env.example: not NAME=value: {line!r}"
        values[name.strip()] = value.strip()
    return values


def env_files(service: dict) -> list[str]:
    """``env_file`` normalised to a list of paths (it may be a string, a list, or long syntax)."""
    value = service.get("env_file", [])
    if isinstance(value, str | dict):
        value = [value]
    return [item["path"] if isinstance(item, dict) else item for item in value]


def healthcheck_text(service: dict) -> str:
    test = service.get("healthcheck", {}).get("test")
    return " ".join(test) if isinstance(test, list) else str(test or "")


def unescape_for_container(text: str) -> str:
    """What the container receives of a compose string: ``$$`` is a literal ``$``.

    A single ``$`` would be interpolated from the host's environment when compose runs; the
    commands here must not depend on that.
    """
    assert "$" not in text.replace("$$", ""), f"host interpolation in a container command: {text!r}"
    return text.replace("$$", "$")


@cache
def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, arguments = full.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    assert not pending, "Dockerfile ends inside a continued line"
    return instructions


def dockerfile_env() -> dict[str, str]:
    values = {}
    for keyword, arguments in dockerfile_instructions():
        if keyword == "ENV":
            for pair in re.findall(r"(\w+)=(\S+)", arguments):
                values[pair[0]] = pair[1]
    return values


# --- The Compose Specification ---------------------------------------------------------------


def test_compose_file_follows_the_compose_specification():
    schema = compose_schema()
    assert schema.get("title") == "Compose Specification"
    jsonschema.validators.validator_for(schema).check_schema(schema)
    assert schema_errors(compose()) == []


@pytest.mark.parametrize(
    "break_it",
    [
        pytest.param(
            lambda doc: doc["services"]["web"]["depends_on"]["postgres"].update(condition="service_ready"),
            id="unknown-depends-on-condition",
        ),
        pytest.param(lambda doc: doc["services"]["worker"].update(comand=["celery"]), id="misspelt-key"),
        pytest.param(lambda doc: doc["services"]["redis"].update(healthcheck={"test": 42}), id="bad-type"),
        pytest.param(lambda doc: doc.update(servces=doc.pop("services")), id="misspelt-top-level-key"),
    ],
)
def test_schema_check_catches_a_broken_compose_file(break_it):
    """The schema really is applied: the same file, broken, fails."""
    document = copy.deepcopy(compose())
    break_it(document)
    assert schema_errors(document) != []


def test_compose_file_has_no_obsolete_version_key():
    assert "version" not in compose()


# --- Services and start order ----------------------------------------------------------------


def test_compose_has_the_expected_services():
    assert set(compose()["services"]) == {"postgres", "redis", *APP_SERVICES}


def test_app_services_share_one_image_env_file_and_settings():
    document = compose()
    assert "x-app" in document, "the shared app configuration lives in the x-app extension field"
    services = document["services"]
    for name in APP_SERVICES:
        service = services[name]
        assert env_files(service) == [".env"], name
        assert service.get("build") == document["x-app"]["build"], name
        assert service.get("image") == document["x-app"]["image"], name
        assert service.get("environment", {}).get("DJANGO_SETTINGS_MODULE") == "dms.settings.prod", name
    for name in ("postgres", "redis"):
        assert not env_files(services[name]), f"{name} must not receive the app's secrets"


@pytest.mark.parametrize("name", LONG_RUNNING_APP_SERVICES)
def test_processes_start_after_healthy_servers_and_finished_migrations(name):
    depends_on = compose()["services"][name]["depends_on"]
    assert isinstance(depends_on, dict), "short-syntax depends_on does not wait for health"
    assert depends_on["postgres"]["condition"] == "service_healthy"
    assert depends_on["redis"]["condition"] == "service_healthy"
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"


def test_migrate_waits_for_servers_and_runs_once():
    migrate = compose()["services"]["migrate"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["depends_on"]["redis"]["condition"] == "service_healthy"
    # With restart "always"/"unless-stopped" a finished migrate starts again and never counts
    # as completed, so web, worker and beat would never start.
    assert str(migrate.get("restart", "no")).split(":")[0] in {"no", "on-failure"}
    assert "ports" not in migrate and "healthcheck" not in migrate


def test_long_running_services_restart():
    services = compose()["services"]
    for name in ("postgres", "redis", *LONG_RUNNING_APP_SERVICES):
        assert services[name].get("restart") in {"always", "unless-stopped"}, name


def test_worker_and_beat_run_the_dms_celery_app():
    services = compose()["services"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "dms", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "dms", "beat"]


# --- Servers ---------------------------------------------------------------------------------


def test_postgres_has_a_healthcheck_and_a_persistent_volume():
    document = compose()
    postgres = document["services"]["postgres"]
    assert postgres["image"].split(":")[0] == "postgres"
    assert "pg_isready" in healthcheck_text(postgres)
    assert "pgdata:/var/lib/postgresql/data" in postgres["volumes"]
    assert "pgdata" in document["volumes"]


def test_redis_has_a_healthcheck_and_an_append_only_persistent_volume():
    document = compose()
    redis = document["services"]["redis"]
    assert redis["image"].split(":")[0] == "redis"
    assert "redis-cli ping" in healthcheck_text(redis)
    assert "redisdata:/data" in redis["volumes"]
    assert "redisdata" in document["volumes"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"


def test_media_volume_is_mounted_where_media_root_points():
    document = compose()
    assert "media" in document["volumes"]
    for name in APP_SERVICES:
        service = document["services"][name]
        media_root = service["environment"]["MEDIA_ROOT"]
        assert f"media:{media_root}" in service["volumes"], name
    assert dockerfile_env()["MEDIA_ROOT"] == document["x-app"]["environment"]["MEDIA_ROOT"]


def test_no_image_uses_a_latest_or_missing_tag():
    images = [service["image"] for service in compose()["services"].values() if "image" in service]
    images += [arguments.split()[0] for keyword, arguments in dockerfile_instructions() if keyword == "FROM"]
    assert images
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name and "/" not in tag, f"{image} has no tag"
        assert tag != "latest", image


def test_compose_interpolates_only_documented_variables_with_defaults():
    """Host-side ``${VAR}`` must come from .env.example and work without it too."""
    text = "\n".join(
        line for line in compose_text().replace("$$", "").splitlines() if not line.lstrip().startswith("#")
    )
    documented = env_example()
    uses = re.findall(r"\$(\{[^}]*\}|\w+)", text)
    assert uses, "expected the postgres credentials to be interpolated from .env"
    for use in uses:
        match = re.fullmatch(r"\{(\w+):-([^}]+)\}", use)
        assert match, f"${use}: use ${{NAME:-default}}, or $$ for the container's shell"
        name, default = match.groups()
        assert name in documented, f"{name} is interpolated but not in .env.example"
        assert default == documented[name], f"compose's default for {name} differs from .env.example"


# --- The web container -----------------------------------------------------------------------


def test_web_publishes_port_8000_and_runs_the_image_gunicorn():
    web = compose()["services"]["web"]
    assert any(str(port).split(":")[-1] == "8000" for port in web["ports"])
    command = web.get("command")
    assert command is None or "gunicorn" in str(command)


class _HealthStub(BaseHTTPRequestHandler):
    status = 200
    requests: list[tuple[str, str | None]] = []

    def do_GET(self):
        type(self).requests.append((self.path, self.headers.get("X-Forwarded-Proto")))
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def health_stub():
    _HealthStub.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HealthStub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (500, False), (404, False)])
def test_web_healthcheck_passes_only_when_health_answers_200(health_stub, status, healthy):
    """Runs the healthcheck's own python snippet against a stand-in for /health/."""
    test = compose()["services"]["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"], "the slim image has python, not curl"
    snippet = unescape_for_container(test[3])
    assert "http://localhost:8000/health/" in snippet
    _HealthStub.status = status
    port = health_stub.server_address[1]
    snippet = snippet.replace("localhost:8000", f"127.0.0.1:{port}")
    result = subprocess.run([sys.executable, "-c", snippet], capture_output=True, timeout=30)
    assert (result.returncode == 0) is healthy, result.stderr.decode()
    # The probe says it came through TLS, so SECURE_SSL_REDIRECT=true cannot redirect it away.
    assert _HealthStub.requests == [("/health/", "https")]


# --- The migrate job -------------------------------------------------------------------------


@pytest.fixture
def fake_python(tmp_path):
    """A ``python`` on PATH that logs its arguments, and fails ``migrate`` on request."""
    log = tmp_path / "calls.log"
    script = tmp_path / "bin" / "python"
    script.parent.mkdir()
    script.write_text(
        '#!/bin/sh\necho "$*" >> "$CALLS_LOG"\ncase "$*" in *" migrate"*) exit "${FAIL_MIGRATE:-0}" ;; esac\n'
    )
    script.chmod(0o755)

    def run(**env: str) -> tuple[int, list[str]]:
        migrate = compose()["services"]["migrate"]
        command = [unescape_for_container(part) for part in migrate["command"]]
        assert command[:2] == ["sh", "-c"]
        environment = {
            "PATH": f"{script.parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "CALLS_LOG": str(log),
            **env,
        }
        result = subprocess.run(command, env=environment, capture_output=True, timeout=30)
        calls = log.read_text().splitlines() if log.exists() else []
        return result.returncode, calls

    return run


@pytest.mark.parametrize(
    ("setting", "seeds"),
    [
        (None, True),  # unset: on, for a first look
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("false", False),
        ("0", False),
        ("no", False),
    ],
)
def test_migrate_seeds_demo_data_unless_disabled(fake_python, setting, seeds):
    env = {} if setting is None else {"DMS_SEED_DEMO": setting}
    returncode, calls = fake_python(**env)
    assert returncode == 0
    expected = ["manage.py migrate --noinput"] + (["manage.py seed_demo"] if seeds else [])
    assert calls == expected


def test_failed_migration_stops_the_job_before_seeding(fake_python):
    returncode, calls = fake_python(FAIL_MIGRATE="1", DMS_SEED_DEMO="true")
    assert returncode != 0
    assert calls == ["manage.py migrate --noinput"]


def test_env_example_turns_seeding_on_for_a_first_look():
    assert env_example()["DMS_SEED_DEMO"] == "true"


# --- .env.example ----------------------------------------------------------------------------


def test_database_url_points_at_the_postgres_service():
    values = env_example()
    url = urlsplit(values["DATABASE_URL"])
    assert url.scheme in {"postgres", "postgresql"}
    assert url.hostname == "postgres" and "postgres" in compose()["services"]
    assert url.port == 5432
    assert unquote(url.username) == values["POSTGRES_USER"]
    assert unquote(url.password) == values["POSTGRES_PASSWORD"]
    assert url.path.lstrip("/") == values["POSTGRES_DB"]


def test_redis_url_points_at_the_redis_service():
    url = urlsplit(env_example()["REDIS_URL"])
    assert url.scheme == "redis"
    assert url.hostname == "redis" and "redis" in compose()["services"]
    assert url.port == 6379


def test_env_example_documents_every_setting_read_from_the_environment():
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    source = "\n".join(
        (ROOT / "dms" / "settings" / name).read_text(encoding="utf-8") for name in ("base.py", "prod.py")
    )
    names = set(re.findall(r"""(?:environ\.get|environ\[|env_bool|env_list|getenv)\(?\s*["'](\w+)["']""", source))
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= names
    names |= {"WEB_CONCURRENCY", "DMS_SEED_DEMO"}  # read by gunicorn and the migrate job
    missing = sorted(name for name in names if not re.search(rf"^(# )?{name}=", text, re.MULTILINE))
    assert missing == [], f"add these to .env.example, with a comment: {missing}"


def test_every_variable_in_env_example_has_a_comment():
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if line.strip() and not line.startswith("#"):
            assert index > 0 and lines[index - 1].startswith("#"), f"no comment above {line!r}"


def test_env_example_is_a_safe_local_first_look():
    values = env_example()
    # Too short to run with, so nobody deploys the published placeholder.
    assert len(values["SECRET_KEY"]) < MIN_SECRET_KEY_LENGTH
    assert "secrets.token_urlsafe" in ENV_EXAMPLE.read_text(encoding="utf-8")
    hosts = values["ALLOWED_HOSTS"].split(",")
    assert "localhost" in hosts, "the web healthcheck calls http://localhost:8000/health/"
    assert "127.0.0.1" in hosts
    assert values["SECURE_SSL_REDIRECT"] == "false"
    assert values["DEBUG"] == "false"
    assert "MEDIA_ROOT" not in values, "docker-compose.yml fixes MEDIA_ROOT to the media volume"


def _prod_settings(**overrides: str) -> subprocess.CompletedProcess:
    """Import dms.settings.prod in a clean process with .env.example's values."""
    environment = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    environment |= env_example() | compose()["x-app"]["environment"] | overrides
    code = (
        "import json\n"
        "from django.conf import settings\n"
        "db = settings.DATABASES['default']\n"
        "print(json.dumps({'db': [db['HOST'], db['PORT'], db['NAME'], db['USER']],\n"
        "    'cache': settings.CACHES['default']['LOCATION'], 'broker': settings.CELERY_BROKER_URL,\n"
        "    'hosts': settings.ALLOWED_HOSTS, 'ssl_redirect': settings.SECURE_SSL_REDIRECT,\n"
        "    'debug': settings.DEBUG, 'media': str(settings.MEDIA_ROOT)}))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_env_example_configures_production_settings_for_the_compose_services():
    result = _prod_settings(SECRET_KEY="k" * 64)
    assert result.returncode == 0, result.stderr
    configured = json.loads(result.stdout.strip().splitlines()[-1])
    assert configured["db"] == ["postgres", 5432, "dms", "dms"]
    assert configured["cache"] == configured["broker"] == "redis://redis:6379/0"
    assert configured["hosts"] == ["localhost", "127.0.0.1"]
    assert configured["ssl_redirect"] is False
    assert configured["debug"] is False
    assert configured["media"] == "/app/media"


def test_production_settings_refuse_the_placeholder_secret_key():
    result = _prod_settings()
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


# --- Dockerfile ------------------------------------------------------------------------------


def test_dockerfile_starts_from_python_311_slim():
    froms = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "FROM"]
    assert froms and froms[-1].split()[0].startswith("python:3.11-slim")


def test_dockerfile_runs_gunicorn_on_port_8000():
    instructions = dockerfile_instructions()
    cmds = [arguments for keyword, arguments in instructions if keyword == "CMD"]
    assert cmds, "no CMD"
    command = json.loads(cmds[-1])  # exec form: gunicorn gets the signals, not a shell
    assert command[0] == "gunicorn"
    assert "dms.wsgi:application" in command
    assert command[command.index("--bind") + 1] == "0.0.0.0:8000"
    # The worker count comes from WEB_CONCURRENCY (which gunicorn reads), so .env can set it;
    # a --workers flag would silently override it.
    assert not {"-w", "--workers"} & set(command)
    assert int(dockerfile_env()["WEB_CONCURRENCY"]) >= 2
    assert any(keyword == "EXPOSE" and "8000" in arguments.split() for keyword, arguments in instructions)


def test_dockerfile_runs_as_an_unprivileged_user():
    users = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "USER"]
    assert users, "no USER: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_dockerfile_defaults_to_production_settings():
    # manage.py and the Celery app default to the dev settings, which start embedded servers.
    assert dockerfile_env()["DJANGO_SETTINGS_MODULE"] == "dms.settings.prod"


def test_dockerfile_installs_the_project_and_collects_static_files_with_dummy_settings():
    runs = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "RUN"]
    assert any(re.search(r"pip install .*(\s|^)\.$", run) for run in runs), "the project is not pip-installed"
    collect = [run for run in runs if "collectstatic" in run]
    assert len(collect) == 1 and "--noinput" in collect[0]
    dummies = dict(re.findall(r"(DATABASE_URL|REDIS_URL|SECRET_KEY)=(\S+)", collect[0]))
    assert set(dummies) == {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"}
    assert len(dummies["SECRET_KEY"]) >= MIN_SECRET_KEY_LENGTH, "prod settings would refuse the build key"
    # Only for that step: none of them may be baked into the image's environment.
    assert not {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} & set(dockerfile_env())


# --- .dockerignore ---------------------------------------------------------------------------


def _dockerignore_regex(pattern: str) -> re.Pattern[str]:
    out, index = "", 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out, index = out + "(?:.*/)?", index + 3
        elif pattern.startswith("**", index):
            out, index = out + ".*", index + 2
        elif pattern[index] == "*":
            out, index = out + "[^/]*", index + 1
        elif pattern[index] == "?":
            out, index = out + "[^/]", index + 1
        elif pattern[index] == "[":
            end = pattern.index("]", index)
            out, index = out + pattern[index : end + 1], end + 1
        else:
            out, index = out + re.escape(pattern[index]), index + 1
    return re.compile(out)


def dockerignored(path: str) -> bool:
    """Docker's rule: the last matching pattern wins; excluding a directory excludes its contents."""
    rules = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    parts = path.split("/")
    candidates = ["/".join(parts[: length + 1]) for length in range(len(parts))]
    ignored = False
    for rule in rules:
        negated = rule.startswith("!")
        regex = _dockerignore_regex(rule.lstrip("!").strip("/"))
        if any(regex.fullmatch(candidate) for candidate in candidates):
            ignored = not negated
    return ignored


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".env.production",
        ".venv/bin/python",
        ".data/pg/PG_VERSION",
        ".git/HEAD",
        "media/upload.jpg",
        "staticfiles/staticfiles.json",
        "crm/__pycache__/models.cpython-311.pyc",
    ],
)
def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image(path):
    assert dockerignored(path)


@pytest.mark.parametrize(
    "path",
    [
        "pyproject.toml",
        "README.md",
        "manage.py",
        "dms/settings/prod.py",
        "dms/wsgi.py",
        "crm/templates/crm/base.html",
        "templates/base.html",
        "static/vendor/htmx/htmx.min.js",
        "locale/zh_Hans/LC_MESSAGES/django.mo",
        "crm/migrations/0001_initial.py",
    ],
)
def test_dockerignore_keeps_what_the_build_needs(path):
    assert not dockerignored(path)
