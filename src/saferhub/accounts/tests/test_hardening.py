"""Production settings: HTTPS only, secure cookies, real keys, no debug pages, `check --deploy` clean."""
import os
import secrets
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def production_env(tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFERHUB_") and k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "saferhub.config.settings",
        "SAFERHUB_ENV": "production",
        "SAFERHUB_SECRET_KEY": secrets.token_urlsafe(60),
        "SAFERHUB_FIELD_KEYS": Fernet.generate_key().decode(),
        "SAFERHUB_BLIND_INDEX_KEY": secrets.token_hex(32),
        "SAFERHUB_DATA_DIR": str(tmp_path),
        "SAFERHUB_ALLOWED_HOSTS": "saferhub.example.org",
    })
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def run(args, env):
    return subprocess.run([sys.executable, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=120)


def manage(*args, env):
    return run(["-m", "django", *args], env)


def setting(name, env):
    return run(["-c", f"import django; django.setup(); from django.conf import settings; print(repr(settings.{name}))"], env)


def test_check_deploy_is_clean_in_production(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_without_the_field_keys(tmp_path):
    env = production_env(tmp_path, SAFERHUB_FIELD_KEYS=None, SAFERHUB_BLIND_INDEX_KEY=None)
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "saferhub.E001" in result.stderr
    # And production never generates development keys.
    assert not (tmp_path / "keys").exists()


def test_check_deploy_warns_in_development(tmp_path):
    env = production_env(tmp_path, SAFERHUB_ENV=None)
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "security.W004" in result.stderr  # no HSTS


@pytest.mark.parametrize("name, expected", [
    ("SECURE_HSTS_SECONDS", "31536000"), ("SECURE_HSTS_INCLUDE_SUBDOMAINS", "True"), ("SECURE_HSTS_PRELOAD", "True"),
    ("SECURE_SSL_REDIRECT", "True"), ("SESSION_COOKIE_SECURE", "True"), ("CSRF_COOKIE_SECURE", "True"),
    ("SAFERHUB_REQUIRE_CONFIGURED_KEYS", "True"), ("DEBUG", "False"),
])
def test_production_settings(tmp_path, name, expected):
    result = setting(name, production_env(tmp_path))
    assert result.stdout.strip() == expected, result.stderr


def test_secure_flag_without_debug_is_production_too(tmp_path):
    result = setting("SESSION_COOKIE_SECURE", production_env(tmp_path, SAFERHUB_ENV=None, SAFERHUB_SECURE="1"))
    assert result.stdout.strip() == "True", result.stderr


def test_the_proxy_header_is_trusted_only_when_behind_a_proxy(tmp_path):
    assert setting("SECURE_PROXY_SSL_HEADER", production_env(tmp_path)).stdout.strip() == "None"
    result = setting("SECURE_PROXY_SSL_HEADER", production_env(tmp_path, SAFERHUB_BEHIND_PROXY="1"))
    assert result.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')", result.stderr


@pytest.mark.parametrize("extra, message", [
    ({"SAFERHUB_DEBUG": "1"}, "SAFERHUB_DEBUG must be off in production"),
    ({"SAFERHUB_SECRET_KEY": None}, "SAFERHUB_SECRET_KEY"),
    ({"SAFERHUB_SECRET_KEY": "too-short-for-production"}, "at least 50 characters"),
])
def test_production_refuses_to_start_misconfigured(tmp_path, extra, message):
    result = manage("check", env=production_env(tmp_path, **extra))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_single_sign_on_is_configured_from_the_environment(tmp_path):
    env = production_env(tmp_path, SAFERHUB_OIDC_RP_CLIENT_ID="saferhub", SAFERHUB_OIDC_RP_CLIENT_SECRET="s",
                         SAFERHUB_OIDC_OP_AUTHORIZATION_ENDPOINT="https://idp.example.org/authorize",
                         SAFERHUB_OIDC_OP_TOKEN_ENDPOINT="https://idp.example.org/token",
                         SAFERHUB_OIDC_OP_USER_ENDPOINT="https://idp.example.org/userinfo",
                         SAFERHUB_OIDC_OP_JWKS_ENDPOINT="https://idp.example.org/jwks")
    result = run(["-c", "import django; django.setup(); from django.conf import settings; from django.urls import reverse; "
                        "print(settings.AUTHENTICATION_BACKENDS[0], settings.OIDC_CREATE_USER, reverse('oidc_authentication_init'))"], env)
    assert result.stdout.split() == ["saferhub.accounts.oidc.SaferhubOIDCBackend", "False", "/oidc/authenticate/"], result.stderr
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stderr
    incomplete = {**env}
    del incomplete["SAFERHUB_OIDC_OP_TOKEN_ENDPOINT"]
    result = manage("check", env=incomplete)
    assert "SAFERHUB_OIDC_OP_TOKEN_ENDPOINT" in result.stderr


@pytest.mark.django_db
@pytest.mark.urls("saferhub.accounts.tests.urls_failing")
def test_an_error_shows_the_service_error_page_not_a_traceback(client, settings):
    assert settings.DEBUG is False
    client.raise_request_exception = False
    response = client.get("/fails/")
    html = response.content.decode()
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in html
    assert "Traceback" not in html and "secret-internal-detail" not in html
