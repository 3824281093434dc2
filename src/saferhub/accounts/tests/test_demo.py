"""The demo's two-factor sign-in: a fixed, published key and backup code for users who see personal data."""
from base64 import b32decode

import pytest
from django_otp.oath import totp

from saferhub.accounts.demo import DEMO_BACKUP_CODE, DEMO_TOTP_KEY, demo_totp, demo_totp_secret
from saferhub.core.demo import DEMO_LOGINS, demo_logins_text
from saferhub.partners.models import PersonalDataScope


@pytest.mark.django_db
def test_the_demo_key_and_backup_code_sign_in(client, caseworker):
    demo_totp(caseworker)
    client.post("/sign-in/", {"username": "caseworker", "password": "correct-horse-battery"})
    response = client.post("/account/two-factor/verify/", {"code": f"{totp(bytes.fromhex(DEMO_TOTP_KEY)):06d}", "next": "/"})
    assert response["Location"] == "/"
    client.post("/sign-out/")
    client.post("/sign-in/", {"username": "caseworker", "password": "correct-horse-battery"})
    assert client.post("/account/two-factor/verify/", {"code": DEMO_BACKUP_CODE, "next": "/"})["Location"] == "/"
    # Used up until the demo is loaded again, which puts it back.
    client.post("/sign-out/")
    client.post("/sign-in/", {"username": "caseworker", "password": "correct-horse-battery"})
    assert client.post("/account/two-factor/verify/", {"code": DEMO_BACKUP_CODE}).status_code == 200
    demo_totp(caseworker)
    assert client.post("/account/two-factor/verify/", {"code": DEMO_BACKUP_CODE, "next": "/"})["Location"] == "/"


def test_the_printed_key_is_the_devices_key():
    assert b32decode(demo_totp_secret().replace(" ", "")) == bytes.fromhex(DEMO_TOTP_KEY)


@pytest.mark.django_db
def test_demo_logins_print_two_factor_for_users_who_see_personal_data(make_user):
    first, second = DEMO_LOGINS[0].username, DEMO_LOGINS[1].username
    make_user(username=first, personal_data_scope=PersonalDataScope.ALL)
    make_user(username=second)
    lines = demo_logins_text()
    index = next(i for i, line in enumerate(lines) if line.split() and line.split()[0] == first)
    assert f"2FA: add the key {demo_totp_secret()} to an authenticator app, or use backup code {DEMO_BACKUP_CODE}" in lines[index + 1]
    assert sum("2FA:" in line for line in lines) == 1
