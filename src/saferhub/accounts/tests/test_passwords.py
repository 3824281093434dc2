"""The password policy and changing a password."""
import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.test import Client

from saferhub.accounts.testing import otp_login
from saferhub.accounts.validators import NoUsernameOrOrganisationValidator
from saferhub.audit.models import AuditEvent, ChangeRecord
from saferhub.core.factories import UserFactory

NEW = "lantern-orchard-pebble-7"


@pytest.mark.django_db
@pytest.mark.parametrize("password, message", [
    ("short-pw-1", "too short"),
    ("password1234", "too common"),
    ("839201746352", "entirely numeric"),
    ("xx-Viewer-2026-spring", "must not contain your username"),
    ("NorthYorkshirePolice-2026", "must not contain the name of your organisation"),
    ("north yorkshire police!!", "must not contain the name of your organisation"),
    ("met-with-nyp-partners", "must not contain the name of your organisation"),
])
def test_weak_passwords_are_refused(viewer, password, message):
    with pytest.raises(ValidationError) as refused:
        password_validation.validate_password(password, viewer)
    assert any(message in m for m in refused.value.messages), refused.value.messages


@pytest.mark.django_db
def test_a_good_password_passes(viewer):
    password_validation.validate_password(NEW, viewer)


@pytest.mark.django_db
def test_the_organisation_rule_ignores_users_without_one(db):
    user = UserFactory(username="nobody-in-particular", organisation=None)
    NoUsernameOrOrganisationValidator().validate("north-yorkshire-police-2026", user)


@pytest.mark.django_db
def test_changing_a_password(client, viewer):
    client.force_login(viewer)
    page = client.get("/account/password/").content.decode()
    assert "Change your password" in page and 'autocomplete="new-password"' in page
    response = client.post("/account/password/", {
        "current_password": "correct-horse-battery", "new_password": NEW, "new_password_again": NEW})
    assert response.status_code == 302 and response["Location"] == "/account/"
    viewer.refresh_from_db()
    assert viewer.check_password(NEW)
    # Still signed in here.
    assert "Your password has been changed" in client.get("/account/").content.decode()
    assert AuditEvent.objects.filter(record_id=str(viewer.pk), fields=["password"]).exists()
    record = ChangeRecord.objects.get(object_id=str(viewer.pk))
    assert NEW not in repr(record.before) + repr(record.after)


@pytest.mark.django_db
def test_changing_a_password_ends_other_sessions(client, viewer):
    other = Client()
    other.force_login(viewer)
    client.force_login(viewer)
    client.post("/account/password/", {"current_password": "correct-horse-battery", "new_password": NEW, "new_password_again": NEW})
    assert other.get("/").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("data, message", [
    ({"current_password": "wrong", "new_password": NEW, "new_password_again": NEW}, "Your current password is not right"),
    ({"current_password": "correct-horse-battery", "new_password": NEW, "new_password_again": NEW + "x"}, "The two new passwords do not match"),
    ({"current_password": "correct-horse-battery", "new_password": "viewer-viewer-1", "new_password_again": "viewer-viewer-1"}, "must not contain your username"),
    ({"current_password": "correct-horse-battery", "new_password": "", "new_password_again": ""}, "Enter a new password"),
])
def test_password_change_errors(client, viewer, data, message):
    client.force_login(viewer)
    response = client.post("/account/password/", data)
    html = response.content.decode()
    assert response.status_code == 200 and "There is a problem" in html and message in html
    viewer.refresh_from_db()
    assert viewer.check_password("correct-horse-battery")


@pytest.mark.django_db
def test_account_page_summarises_sign_in(client, caseworker):
    otp_login(client, caseworker)
    html = client.get("/account/").content.decode()
    assert "Authenticator app; needed because you can see personal data" in html
    assert "30 minutes without activity" in html


@pytest.mark.django_db
def test_every_page_links_to_the_account_page(client, viewer):
    client.force_login(viewer)
    assert 'href="/account/">Your account</a>' in client.get("/").content.decode()
