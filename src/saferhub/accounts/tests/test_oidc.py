"""Single sign-on: the identity provider's email maps to one active Saferhub account, never a new one.

The provider is never contacted: its token, signature check and user information are stand-ins."""
from unittest import mock

import pytest
from django.test import RequestFactory

from saferhub.accounts.oidc import SaferhubOIDCBackend
from saferhub.audit.models import AuditAction, AuditEvent
from saferhub.partners.models import PersonalDataScope, Role, User

pytestmark = pytest.mark.urls("saferhub.accounts.tests.urls_with_sso")


@pytest.fixture
def sso(settings):
    settings.SAFERHUB_OIDC_ENABLED = True
    settings.SAFERHUB_OIDC_PROVIDER_NAME = "North Yorkshire Council"
    settings.OIDC_RP_CLIENT_ID = "saferhub"
    settings.OIDC_RP_CLIENT_SECRET = "client-secret"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "https://idp.example.org/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = "https://idp.example.org/token"
    settings.OIDC_OP_USER_ENDPOINT = "https://idp.example.org/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = "https://idp.example.org/jwks"
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.OIDC_CREATE_USER = False
    settings.OIDC_USE_PKCE = True
    settings.LOGIN_REDIRECT_URL_FAILURE = "/sign-in/?sso=failed"
    settings.AUTHENTICATION_BACKENDS = ["saferhub.accounts.oidc.SaferhubOIDCBackend", "django.contrib.auth.backends.ModelBackend"]
    return settings


def provider_says(claims):
    """Stand in for the identity provider: a token, a good signature, these claims."""
    return [
        mock.patch.object(SaferhubOIDCBackend, "get_token", return_value={"id_token": "id-token", "access_token": "access-token"}),
        mock.patch.object(SaferhubOIDCBackend, "verify_token", return_value={"nonce": "nonce-1", "sub": "abc"}),
        mock.patch.object(SaferhubOIDCBackend, "get_userinfo", return_value=claims),
    ]


def authenticate_with(claims):
    request = RequestFactory().get("/oidc/callback/", {"code": "code-1", "state": "state-1"})
    request.session = {}
    patches = provider_says(claims)
    for patch in patches:
        patch.start()
    try:
        return SaferhubOIDCBackend().authenticate(request, nonce="nonce-1", code_verifier="verifier")
    finally:
        for patch in patches:
            patch.stop()


@pytest.mark.django_db
def test_the_providers_email_finds_the_account_whatever_its_case(sso, make_user):
    user = make_user(Role.CONTRIBUTOR, username="council.officer", email="Council.Officer@example.org")
    assert authenticate_with({"email": "council.officer@EXAMPLE.org", "email_verified": True}) == user


@pytest.mark.django_db
def test_an_unknown_email_signs_no_one_in_and_creates_no_account(sso, make_user):
    make_user(username="someone", email="someone@example.org")
    before = User.objects.count()
    assert authenticate_with({"email": "stranger@example.org", "email_verified": True}) is None
    assert User.objects.count() == before


@pytest.mark.django_db
def test_a_disabled_account_is_not_signed_in(sso, make_user):
    make_user(username="left", email="left@example.org", is_active=False)
    assert authenticate_with({"email": "left@example.org"}) is None


@pytest.mark.django_db
def test_an_email_shared_by_two_accounts_signs_neither_in(sso, make_user):
    make_user(username="one", email="shared@example.org")
    make_user(username="two", email="SHARED@example.org")
    assert authenticate_with({"email": "shared@example.org"}) is None


@pytest.mark.django_db
@pytest.mark.parametrize("claims", [{"email": "officer@example.org", "email_verified": False}, {"sub": "abc"}, {"email": ""}])
def test_an_unverified_or_missing_email_is_refused(sso, make_user, claims):
    make_user(username="officer", email="officer@example.org")
    assert authenticate_with(claims) is None


def callback(client, claims):
    session = client.session
    session["oidc_states"] = {"state-1": {"nonce": "nonce-1", "code_verifier": "verifier", "added_on": 0}}
    session.save()
    patches = provider_says(claims)
    for patch in patches:
        patch.start()
    try:
        return client.get("/oidc/callback/", {"code": "code-1", "state": "state-1"})
    finally:
        for patch in patches:
            patch.stop()


@pytest.mark.django_db
def test_signing_in_through_the_provider_is_audited(sso, client, make_user):
    user = make_user(Role.VIEWER, username="analyst", email="analyst@example.org")
    response = callback(client, {"email": "analyst@example.org"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    event = AuditEvent.objects.get()
    assert event.action == AuditAction.SIGN_IN and event.actor_id == user.pk and event.detail["method"] == "single sign-on"


@pytest.mark.django_db
def test_an_unknown_email_goes_back_to_sign_in_with_an_explanation(sso, client):
    response = callback(client, {"email": "stranger@example.org"})
    assert response["Location"] == "/sign-in/?sso=failed"
    assert "Single sign-on did not sign you in" in client.get(response["Location"]).content.decode()
    event = AuditEvent.objects.get()
    assert event.action == AuditAction.SIGN_IN_FAILED and event.record_id == ""
    assert event.detail == {"reason": "no active account has the identity provider's email", "stage": "single sign-on"}
    assert "stranger" not in repr(event.detail)


@pytest.mark.django_db
def test_staff_who_see_personal_data_still_enter_a_saferhub_code(sso, client, make_user):
    make_user(Role.CONTRIBUTOR, username="idva", email="idva@example.org", personal_data_scope=PersonalDataScope.PARTIES)
    callback(client, {"email": "idva@example.org"})
    assert client.get("/")["Location"].startswith("/account/two-factor/set-up/")


@pytest.mark.django_db
def test_when_the_provider_does_multi_factor_saferhub_trusts_it(sso, client, make_user):
    sso.SAFERHUB_OIDC_TRUSTS_MFA = True
    make_user(Role.CONTRIBUTOR, username="idva", email="idva@example.org", personal_data_scope=PersonalDataScope.PARTIES)
    callback(client, {"email": "idva@example.org"})
    assert client.get("/").status_code == 200
    # A password sign-in in the same set-up gets no such trust.
    client.post("/sign-out/")
    client.post("/sign-in/", {"username": "idva", "password": "correct-horse-battery"})
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_the_sign_in_page_offers_the_provider(sso, client):
    html = client.get("/sign-in/?next=/strategies/").content.decode()
    assert "Sign in with North Yorkshire Council" in html
    assert 'href="/oidc/authenticate/?next=/strategies/"' in html or 'href="/oidc/authenticate/?next=%2Fstrategies%2F"' in html
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 302 and response["Location"].startswith("https://idp.example.org/authorize?")
    assert "code_challenge=" in response["Location"]


@pytest.mark.django_db
def test_without_configuration_there_is_no_single_sign_on(client, settings):
    settings.SAFERHUB_OIDC_ENABLED = False
    assert "Sign in with" not in client.get("/sign-in/").content.decode()
