"""Production settings: `manage.py check --deploy` is clean, and bad or missing settings stop the
process loudly. Each case runs manage.py in a fresh process with only the environment it names,
so nothing leaks in from the test settings or the developer's shell."""

import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def production_env(tmp_path):
    """What a production deployment sets, with throw-away paths and a random key."""
    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "reviewdesk.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "REVIEWDESK_VAR_DIR": str(tmp_path / "var"),
    }


def manage(*args, env):
    base = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": env.get("REVIEWDESK_VAR_DIR", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "reviewdesk.settings",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_check_deploy_is_clean_under_production_settings(production_env):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in result.stdout, output
    assert result.stderr == "", output


def test_production_settings_refuse_to_start_without_a_secret_key(production_env):
    del production_env["SECRET_KEY"]
    result = manage("check", env=production_env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: The environment variable SECRET_KEY is required." in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be a boolean"),
        ("SECURE_SSL_REDIRECT", "sometimes", "SECURE_SSL_REDIRECT must be a boolean"),
        ("SECURE_HSTS_SECONDS", "1y", "SECURE_HSTS_SECONDS must be an integer"),
        ("DATABASE_URL", "mysql://db/reviewdesk", "DATABASE_URL has an unsupported scheme"),
    ],
)
def test_a_malformed_setting_stops_start_up_with_its_name(production_env, name, value, message):
    production_env[name] = value
    result = manage("check", env=production_env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
