"""The shell every page shares: signing in, the GOV.UK layout, locally served assets, CSP."""
import re

import pytest


@pytest.mark.django_db
def test_pages_need_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


@pytest.mark.django_db
def test_sign_in_page_uses_govuk_frontend_served_locally(client):
    response = client.get("/sign-in/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "govuk-template" in html
    assert '/assets/govuk/govuk-frontend.min.css' in html
    # Every stylesheet, script and image comes from this server, never a CDN.
    for attr in re.findall(r'<(?:link|script|img)[^>]*(?:href|src)="([^"]+)"', html):
        assert attr.startswith("/"), attr


@pytest.mark.django_db
def test_every_inline_script_carries_the_csp_nonce(client):
    response = client.get("/sign-in/")
    policy = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    html = response.content.decode()
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts
    for attrs in scripts:
        assert f'nonce="{nonce}"' in attrs or "src=" in attrs


@pytest.mark.django_db
def test_wrong_password_is_explained(client, viewer):
    response = client.post("/sign-in/", {"username": "viewer", "password": "wrong"})
    assert response.status_code == 200
    assert "Enter a correct username and password" in response.content.decode()


@pytest.mark.django_db
def test_signed_in_user_sees_home(client, viewer):
    assert client.login(username="viewer", password="correct-horse-battery")
    response = client.get("/")
    assert response.status_code == 200
    assert "North Yorkshire Police" in response.content.decode()


@pytest.mark.django_db
def test_missing_page_is_a_govuk_404(client, viewer):
    client.force_login(viewer)
    response = client.get("/strategies/actions/999999/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.django_db
def test_sign_out_is_a_post_from_every_page(client, viewer):
    client.force_login(viewer)
    html = client.get("/").content.decode()
    assert 'action="/sign-out/"' in html and "Sign out" in html
    assert client.post("/sign-out/").status_code == 302
    assert client.get("/").status_code == 302
