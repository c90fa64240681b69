"""Production settings: HTTPS-only behaviour from the environment, and the CSP on every page."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.support.uploads import boundaries, user  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]

PRODUCTION_ENV = {
    "GIGASITE_HTTPS": "1",
    "GIGASITE_PROXY_SSL_HEADER": "1",
    "ALLOWED_HOSTS": "gigasite.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://gigasite.example.org",
}
"""The production environment the README's checklist documents (plus a SECRET_KEY)."""


def _check_deploy(extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIGASITE_HTTPS", "GIGASITE_HSTS"))}
    env.update(
        {"DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": secrets.token_urlsafe(60), "GIGASITE_DEBUG": "0"}
    )
    env.update(extra)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


class CheckDeployTests:
    def test_it_passes_check_deploy_with_the_documented_production_environment(self):
        proc = _check_deploy(PRODUCTION_ENV)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "no issues" in proc.stdout

    def test_it_documents_that_environment_in_the_readme(self):
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        for name in [*PRODUCTION_ENV, "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "GIGASITE_PROXY_COUNT"]:
            assert name in readme, name
        assert "axes_reset" in readme and "gunicorn" in readme

    def test_it_keeps_a_laptop_on_plain_http(self):
        proc = _check_deploy({})
        for code in ("W004", "W008", "W012", "W016"):
            assert code in proc.stdout + proc.stderr  # off unless the deployment asks for HTTPS


@pytest.mark.django_db
class HttpsTests:
    def test_it_redirects_to_https_and_sends_hsts_and_secure_cookies(self, settings):
        settings.SECURE_SSL_REDIRECT = True
        settings.SECURE_HSTS_SECONDS = 31536000
        settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
        settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
        client = Client()
        resp = client.get("/accounts/login/")
        assert resp.status_code == 301 and resp["Location"].startswith("https://")
        resp = client.get("/accounts/login/", secure=True)
        assert resp.status_code == 200
        assert resp["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        assert resp.cookies["csrftoken"]["secure"]


@pytest.mark.django_db
class ContentSecurityPolicyTests:
    def _policy(self, resp) -> dict[str, list[str]]:
        header = resp["Content-Security-Policy"]
        return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}

    def test_it_sends_a_policy_without_inline_scripts_or_other_hosts(self, client):
        policy = self._policy(client.get("/accounts/login/"))
        assert policy["default-src"] == ["'self'"]
        assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
        for sources in policy.values():
            assert not any(s.startswith(("http", "*")) for s in sources), sources

    def test_it_gives_the_upload_previews_inline_script_the_responses_nonce(self, client, boundaries):
        client.force_login(user("ana", "analyst"))
        data = b"id,name,lat,lon\nA,Site A,49.2833,6.0648\n"
        client.post(
            "/uploads/new/", {"file": SimpleUploadedFile("s.csv", data), "source_name": "S", "on_duplicate": "error"}
        )
        from siting.models import SiteUpload

        resp = client.get(f"/uploads/{SiteUpload.objects.get().code}/")
        nonce = re.search(r"'nonce-([^']+)'", resp["Content-Security-Policy"]).group(1)
        page = resp.content.decode()
        inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page)
        assert inline and all(f'nonce="{nonce}"' in tag for tag in inline), inline

    def test_it_needs_no_nonce_on_pages_without_inline_scripts(self, client):
        u = User.objects.create_user("pl", password="x")
        u.groups.add(Group.objects.get(name="planner"))
        client.force_login(u)
        page = client.get("/").content.decode()
        assert not re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(?!</script>)", page)
