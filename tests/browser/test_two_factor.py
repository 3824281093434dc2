"""Two-factor sign-in in a real browser: setting up an authenticator app, backup codes, entering codes."""
from playwright.sync_api import expect
from base64 import b32decode

import pytest
from django_otp.oath import totp

from saferhub.accounts.testing import totp_device
from saferhub.partners.models import PersonalDataScope, Role


@pytest.fixture
def caseworker(make_user):
    return make_user(Role.CONTRIBUTOR, username="caseworker", personal_data_scope=PersonalDataScope.PARTIES)


@pytest.mark.django_db(transaction=True)
def test_setting_up_two_factor_then_signing_in_with_it(page, axe, sign_in, caseworker):
    sign_in("caseworker")
    assert "/account/two-factor/set-up/" in page.url
    axe(page)
    key = b32decode(page.locator("#setup-key").inner_text().replace(" ", ""))
    assert "otpauth://totp/" in page.content()
    page.get_by_label("Code from your authenticator app").fill(f"{(totp(key) + 1) % 1_000_000:06d}")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    axe(page)
    # Django-otp asks for a second's pause after a wrong code.
    page.wait_for_timeout(1100)
    page.get_by_label("Code from your authenticator app").fill(f"{totp(key):06d}")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Your backup codes"
    assert page.get_by_role("list", name="Backup codes").get_by_role("listitem").count() == 10
    axe(page)
    with page.expect_navigation():
        page.get_by_role("button", name="I have saved my backup codes").click()
    assert page.url.endswith("/")

    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    sign_in("caseworker")
    assert page.url.endswith("/")
    page.goto("/account/")
    assert page.get_by_role("heading", level=1).inner_text() == "Your account"
    axe(page)


@pytest.mark.django_db(transaction=True)
def test_verification_page_is_accessible_and_explains_a_wrong_code(page, axe, caseworker):
    totp_device(caseworker)
    page.goto("/sign-in/")
    page.get_by_label("Username").fill("caseworker")
    page.get_by_label("Password", exact=True).fill("correct-horse-battery")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in", exact=True).click()
    assert "/account/two-factor/verify/" in page.url
    axe(page)
    page.get_by_label("Enter the code from your authenticator app").fill("12")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    axe(page)


@pytest.mark.django_db(transaction=True)
def test_password_change_page_is_accessible(page, axe, sign_in, viewer):
    sign_in("viewer")
    page.goto("/account/password/")
    axe(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    axe(page)
