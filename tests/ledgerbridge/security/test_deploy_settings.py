"""Secure cookies, HSTS and TLS follow an https public URL; plain http stays usable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client

from ledgerbridge.secrets import derived_key
from tests.ledgerbridge.factories import PASSWORD, make_user

PRODUCTION = {
    "LEDGERBRIDGE_PUBLIC_URL": "https://ledgerbridge.example.com",
    "LEDGERBRIDGE_ALLOWED_HOSTS": "ledgerbridge.example.com",
    "LEDGERBRIDGE_SECRET_KEY": "k" * 20 + "-Pz4!qT9#mW2&xL7^vB5*nR8@cF3$hJ6%",
    "LEDGERBRIDGE_ENCRYPTION_KEYS": "u2dPmxrL8i5ZsQ6fN8J0cY3wVqI2e7o9l1bKp4tR5Wg=",
    "LEDGERBRIDGE_DEBUG": "0",
}


def settings_in(env: dict[str, str], tmp_path, *code: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERBRIDGE_")}
    base.pop("DATABASE_URL", None)
    base.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by tests/conftest.py for Playwright
    return subprocess.run(
        [sys.executable, *code],
        env={**base, **env, "LEDGERBRIDGE_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_settings(tmp_path):
    done = settings_in(PRODUCTION, tmp_path, "-m", "ledgerbridge.cli", "check", "--deploy")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    # Only the checks silenced in settings.py, each with its reason written there.
    assert "System check identified no issues (2 silenced)." in output, output


def test_check_deploy_warns_about_plain_http(tmp_path):
    env = {**PRODUCTION, "LEDGERBRIDGE_PUBLIC_URL": "http://ledgerbridge.example.com"}
    done = settings_in(env, tmp_path, "-m", "ledgerbridge.cli", "check", "--deploy")
    output = done.stdout + done.stderr
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in output


def test_an_https_public_url_switches_on_secure_cookies_hsts_and_the_proxy_header(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.CSRF_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER)"
    )
    env = {**PRODUCTION, "DJANGO_SETTINGS_MODULE": "ledgerbridge.settings"}
    done = settings_in(env, tmp_path, "-c", code)
    assert done.stdout.split() == [
        "True", "True", "True", "True", "Lax", "True", "31536000",
        "('HTTP_X_FORWARDED_PROTO',", "'https')",
    ], done.stderr  # fmt: skip


def test_check_deploy_refuses_an_https_public_url_without_the_keys(tmp_path):
    env = {
        k: v
        for k, v in PRODUCTION.items()
        if k not in ("LEDGERBRIDGE_SECRET_KEY", "LEDGERBRIDGE_ENCRYPTION_KEYS")
    }
    done = settings_in(env, tmp_path, "-m", "ledgerbridge.cli", "check", "--deploy")
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "ledgerbridge.E001" in output and "LEDGERBRIDGE_SECRET_KEY is not set" in output
    assert "ledgerbridge.E002" in output and "LEDGERBRIDGE_ENCRYPTION_KEYS is not set" in output
    # and says how to make them
    assert "secrets.token_urlsafe(50)" in output and "Fernet.generate_key()" in output


def test_check_deploy_refuses_the_development_keys_set_by_hand(tmp_path):
    env = {
        **PRODUCTION,
        "LEDGERBRIDGE_SECRET_KEY": settings.DEVELOPMENT_SECRET_KEY,
        "LEDGERBRIDGE_ENCRYPTION_KEYS": (
            f"{PRODUCTION['LEDGERBRIDGE_ENCRYPTION_KEYS']},"
            f"{derived_key(settings.DEVELOPMENT_SECRET_KEY)}"
        ),
    }
    done = settings_in(env, tmp_path, "-m", "ledgerbridge.cli", "check", "--deploy")
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "ledgerbridge.E001" in output
    assert "ledgerbridge.E002" in output and "holds the development key" in output


def test_check_refuses_an_encryption_key_that_is_not_a_fernet_key(tmp_path):
    env = {**PRODUCTION, "LEDGERBRIDGE_ENCRYPTION_KEYS": "not-a-fernet-key"}
    done = settings_in(env, tmp_path, "-m", "ledgerbridge.cli", "check")
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "ledgerbridge.E002" in output and "not a Fernet key" in output
    assert "ledgerbridge.E001" not in output


def test_the_web_app_refuses_to_load_with_an_https_public_url_and_no_keys(tmp_path):
    env = {
        "LEDGERBRIDGE_PUBLIC_URL": PRODUCTION["LEDGERBRIDGE_PUBLIC_URL"],
        "LEDGERBRIDGE_ALLOWED_HOSTS": PRODUCTION["LEDGERBRIDGE_ALLOWED_HOSTS"],
    }
    done = settings_in(env, tmp_path, "-c", "import ledgerbridge.wsgi")
    assert done.returncode != 0
    assert "ImproperlyConfigured: ledgerbridge.E001" in done.stderr, done.stderr
    assert "Set LEDGERBRIDGE_ENCRYPTION_KEYS" in done.stderr
    with_keys = settings_in(PRODUCTION, tmp_path, "-c", "import ledgerbridge.wsgi")
    assert with_keys.returncode == 0, with_keys.stderr


def test_a_plain_http_development_run_needs_no_keys(tmp_path):
    done = settings_in({}, tmp_path, "-m", "ledgerbridge.cli", "check")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "ledgerbridge.E00" not in output


@pytest.mark.django_db
def test_behind_the_proxy_plain_http_redirects_to_https_and_responses_carry_hsts(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_REDIRECT_EXEMPT = [r"^health$"]
    client = Client()
    response = client.get("/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/login/"
    secure = client.get("/login/", headers={"x-forwarded-proto": "https"})
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000"
    assert client.get("/health").status_code in (200, 503)


@pytest.mark.django_db
def test_local_http_run_sets_cookies_without_secure_but_httponly_and_lax():
    client = Client()
    user = make_user()
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    session = response.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax" and not session["secure"]


def test_the_product_hashes_passwords_with_djangos_default_pbkdf2():
    """The tests switch to a fast hasher (tests/conftest.py); the product's settings do not."""
    from django.conf import global_settings

    import ledgerbridge.settings as product

    hashers = getattr(product, "PASSWORD_HASHERS", global_settings.PASSWORD_HASHERS)
    assert hashers[0] == "django.contrib.auth.hashers.PBKDF2PasswordHasher"
    assert hashers != settings.PASSWORD_HASHERS  # and the tests really run with another
