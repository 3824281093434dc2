"""The pages everyone meets first, in a real browser."""
from playwright.sync_api import expect
import pytest


@pytest.mark.django_db(transaction=True)
def test_sign_in_page_is_accessible_and_signs_in(page, axe, sign_in, viewer):
    page.goto("/sign-in/")
    axe(page)
    # No CSP violation: GOV.UK Frontend's JS started and marked the body.
    assert "govuk-frontend-supported" in page.eval_on_selector("body", "b => b.className")
    sign_in("viewer")
    assert page.url.endswith("/")
    assert page.get_by_role("heading", level=1).inner_text() == "North Yorkshire Police"
    axe(page)


@pytest.mark.django_db(transaction=True)
def test_wrong_password_shows_an_error_summary(page, axe, viewer):
    page.goto("/sign-in/")
    page.get_by_label("Username").fill("viewer")
    page.get_by_label("Password", exact=True).fill("not-the-password")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    axe(page)


@pytest.mark.django_db(transaction=True)
def test_accessibility_statement(page, axe):
    page.goto("/accessibility/")
    assert "Accessibility statement" in page.get_by_role("heading", level=1).inner_text()
    axe(page)
