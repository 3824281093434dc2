"""Bearer tokens let a provider's own system use the API as one member of staff, with that
member's permissions and no CSRF dance; personal-data accounts cannot have them."""
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client

from saferhub.accounts.models import ApiToken
from saferhub.accounts.tokens import api_token_create, api_token_revoke
from saferhub.audit.models import AuditEvent
from saferhub.partners.models import PersonalDataScope, Role
from saferhub.performance.tests.conftest import hub  # noqa: F401 - the synthetic service fixture

QUARTER = "2023-24-q3"


@pytest.fixture
def provider_system(make_user, other_organisation):
    return make_user(Role.CONTRIBUTOR, org=other_organisation, username="idas.system")


def put_figures(client, token, values):
    return client.put(f"/api/returns/hub/{QUARTER}/figures", data=json.dumps({"values": values}),
                      content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_provider_system_submits_figures_with_a_token(hub, provider_system):
    _, token = api_token_create(user=provider_system, name="IDAS case management")
    client = Client(enforce_csrf_checks=True)
    response = put_figures(client, token, [{"element": "individuals", "option": None, "month": None, "value": 10}])
    assert response.status_code == 200, response.content
    assert client.get(f"/api/returns/hub/{QUARTER}/", HTTP_AUTHORIZATION=f"Bearer {token}").json()["status"] == "draft"
    assert AuditEvent.objects.filter(record_type="api_token", action="create").exists()


def test_the_token_carries_its_users_permissions_only(hub, make_user, organisation):
    police = make_user(Role.CONTRIBUTOR, org=organisation, username="nyp.system")
    _, token = api_token_create(user=police, name="Police system")
    assert put_figures(Client(), token, [{"element": "individuals", "option": None, "month": None, "value": 1}]).status_code == 403


def test_revoked_expired_and_unknown_tokens_are_refused(hub, provider_system):
    record, token = api_token_create(user=provider_system, name="IDAS case management")
    api_token_revoke(token=record)
    assert Client().get("/api/indicators/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert Client().get("/api/indicators/", HTTP_AUTHORIZATION="Bearer shub_not-a-token").status_code == 401
    record, token = api_token_create(user=provider_system, name="Short", days=1)
    ApiToken.objects.filter(pk=record.pk).update(expires_at="2000-01-01T00:00:00Z")
    assert Client().get("/api/indicators/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_only_the_digest_is_stored(provider_system):
    record, token = api_token_create(user=provider_system, name="IDAS case management")
    stored = ApiToken.objects.values_list("digest", "prefix").get(pk=record.pk)
    assert token not in "".join(stored) and token.startswith(record.prefix)


def test_no_tokens_for_accounts_that_see_personal_data(make_user):
    caseworker = make_user(Role.CONTRIBUTOR, username="caseworker", personal_data_scope=PersonalDataScope.PARTIES)
    with pytest.raises(ValidationError):
        api_token_create(user=caseworker, name="Anything")


def test_command_creates_lists_and_revokes(provider_system, capsys):
    call_command("api_token", "create", "--user", "idas.system", "--name", "IDAS case management")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    call_command("api_token", "list")
    listing = capsys.readouterr().out
    assert token not in listing and token[:10] in listing
    call_command("api_token", "revoke", token[:10])
    assert ApiToken.objects.get().revoked_at is not None
