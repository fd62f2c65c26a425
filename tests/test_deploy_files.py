"""The deployment files say what the code does: docker-compose.yml runs the whole stack with health
checks and no committed secrets, and .env.example and the docs name every variable settings.py
reads. Docker itself is not needed: the files are parsed, not run."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|(^|_)KEY$")
# A compose reference without a default: ${NAME} or ${NAME:?message} / ${NAME?message}.
REFERENCE_WITHOUT_DEFAULT = re.compile(r"^\$\{[A-Z][A-Z0-9_]*(:?\?[^}]*)?\}$")


def read(name):
    return (ROOT / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(read("docker-compose.yml"))


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def settings_variables():
    """Every environment variable settings.py reads through the env helpers."""
    names = set(
        re.findall(r"env_(?:str|bool|int|float|list|rate)\(\s*\"([A-Z][A-Z0-9_]*)\"", read("reviewdesk/settings.py"))
    )
    assert len(names) > 10, "the pattern no longer finds settings.py's variables"
    return names


def env_example_entries():
    """{name: value or None when the line is commented out} for every NAME= line of .env.example."""
    entries = {}
    for line in read(".env.example").splitlines():
        match = re.match(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if match:
            entries[match[2]] = None if match[1] else match[3].strip()
    return entries


def compose_variables():
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", read("docker-compose.yml")))


def environment_of(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def command_of(service):
    command = service.get("command") or ""
    return command if isinstance(command, str) else " ".join(command)


def health_test_of(service):
    test = service["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(test)


# docker-compose.yml ---------------------------------------------------------------------------


def test_compose_runs_postgres_redis_web_worker_and_beat(services):
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)


def test_postgres_is_version_15_or_16_keeps_its_data_in_a_volume_and_is_checked_with_pg_isready(compose, services):
    postgres = services["postgres"]
    assert re.fullmatch(r"postgres:1[56](\.\d+)*(-\w+)?", postgres["image"])
    volume = next(v for v in postgres["volumes"] if v.endswith(":/var/lib/postgresql/data"))
    assert volume.split(":")[0] in compose["volumes"]
    assert "pg_isready" in health_test_of(postgres)


def test_redis_is_checked_with_redis_cli_ping(services):
    assert "redis-cli ping" in health_test_of(services["redis"])


def test_web_serves_the_wsgi_app_with_gunicorn_and_checks_healthz(services):
    web = services["web"]
    assert command_of(web).startswith("gunicorn reviewdesk.wsgi")
    assert "/healthz/" in health_test_of(web)


def test_worker_and_beat_run_celery(services):
    assert command_of(services["worker"]).startswith("celery -A reviewdesk worker")
    assert command_of(services["beat"]).startswith("celery -A reviewdesk beat")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_start_after_healthy_databases_and_finished_migrations(services, name):
    depends_on = services[name]["depends_on"]
    assert depends_on["postgres"] == {"condition": "service_healthy"}
    assert depends_on["redis"] == {"condition": "service_healthy"}
    assert depends_on["migrate"] == {"condition": "service_completed_successfully"}


def test_migrate_runs_once_after_postgres_is_healthy(services):
    migrate = services["migrate"]
    assert command_of(migrate).startswith("python manage.py migrate")
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert "migrate" not in migrate["depends_on"]
    assert migrate["restart"] == "no"


@pytest.mark.parametrize("name", ("migrate", *APP_SERVICES))
def test_app_services_read_env_file_and_use_the_compose_databases(services, name):
    service = services[name]
    assert service["env_file"] in (".env", [".env"])
    env = environment_of(service)
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
    assert env["REDIS_URL"] != env["CELERY_BROKER_URL"]


def test_no_secret_value_is_written_in_compose(services):
    for name, service in services.items():
        for key, value in environment_of(service).items():
            value = "" if value is None else str(value)
            if SECRET_NAME.search(key):
                assert REFERENCE_WITHOUT_DEFAULT.match(value), f"{name}.{key} must come from .env, without a default"
            for password in re.findall(r"://[^:/@\s]+:([^@\s]+)@", value):
                assert REFERENCE_WITHOUT_DEFAULT.match(password), f"{name}.{key} has a password in its URL"


def test_no_secret_variable_gets_a_default_in_compose():
    text = read("docker-compose.yml")
    defaults = re.findall(r"\$\{([A-Z][A-Z0-9_]*):?-", text)
    assert not [name for name in defaults if SECRET_NAME.search(name)]


def test_every_variable_compose_interpolates_is_in_env_example():
    assert compose_variables() - set(env_example_entries()) == set()


# .env, .env.example and the image -------------------------------------------------------------


def test_env_files_stay_out_of_git_and_out_of_the_image():
    assert ".env" in read(".gitignore").split()
    assert ".env" in read(".dockerignore").split()


def test_env_example_names_every_variable_settings_reads():
    assert settings_variables() - set(env_example_entries()) == set()


def test_env_example_names_only_variables_something_reads():
    assert set(env_example_entries()) - settings_variables() - compose_variables() == set()


def test_env_example_leaves_secrets_empty():
    entries = env_example_entries()
    secrets = {name: value for name, value in entries.items() if SECRET_NAME.search(name)}
    assert {"SECRET_KEY", "POSTGRES_PASSWORD", "FIELD_ENCRYPTION_KEY"} <= set(secrets)
    assert {name: value for name, value in secrets.items() if value} == {}


def test_env_example_is_production_safe():
    entries = env_example_entries()
    assert entries["DEBUG"] == "0"
    # Commented out means the production default (on) applies.
    assert entries["SECURE_SSL_REDIRECT"] is None


def test_dockerfile_builds_a_non_root_gunicorn_image_with_collected_static_files():
    dockerfile = read("Dockerfile")
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.MULTILINE)
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "pip install -r requirements.txt" in dockerfile
    assert "collectstatic --noinput" in dockerfile
    assert '"gunicorn", "reviewdesk.wsgi"' in dockerfile
    # The build-time key lives only in the RUN that needs it, never in the image's environment.
    assert not re.search(r"^(ENV|ARG)\s+.*SECRET_KEY", dockerfile, re.MULTILINE)


# Docs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("doc", ["README.md", "docs/configuration.md"])
def test_docs_name_every_variable_settings_reads(doc):
    text = read(doc)
    assert {name for name in settings_variables() if f"`{name}`" not in text} == set()
