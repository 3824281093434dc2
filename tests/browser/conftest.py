"""Browser tests: Debian's Chromium driven by Playwright against a live Saferhub, with axe-core
checking every page visited for WCAG 2 A/AA violations."""
import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SAFERHUB_CHROMIUM", "/usr/bin/chromium")
AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# Assertions wait for the page as long as actions do: the machine may be busy running other tests.
from playwright.sync_api import expect  # noqa: E402

expect.set_options(timeout=15_000)

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between
# page actions are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run should have installed Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    # A Content Security Policy violation or a script error on any page fails the test.
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, "Browser console errors:\n" + "\n".join(errors)


class AxeViolations(AssertionError):
    pass


def axe_check(page) -> None:
    """Run axe-core (wcag2a, wcag2aa) on the current page and fail with every violation found."""
    # evaluate() runs the script through the DevTools protocol, outside the page's CSP.
    page.evaluate(AXE_JS.read_text())
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
    )
    violations = result["violations"]
    if violations:
        lines = [f"{page.url}: {len(violations)} accessibility violation(s)"]
        for v in violations:
            targets = "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']} at {targets}")
        raise AxeViolations("\n".join(lines))


@pytest.fixture
def axe():
    return axe_check


@pytest.fixture
def sign_in(page):
    def sign_in_as(username: str, password: str = "correct-horse-battery"):
        page.goto("/sign-in/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password", exact=True).fill(password)
        # Waiting for the navigation the form starts, not just the current page's load state,
        # so the next step sees the page the sign-in led to.
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_load_state()
        enter_two_factor_code(page, username)

    return sign_in_as


def enter_two_factor_code(page, username: str) -> None:
    """When Saferhub asks for a code (staff who see personal data), enter the one the user's
    authenticator app would show now, computed from their device's key."""
    if "/account/two-factor/verify/" not in page.url:
        return
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from saferhub.accounts.testing import totp_code

    device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
    assert device is not None, f"{username} has no authenticator app: give them one with saferhub.accounts.testing.totp_device"
    page.get_by_label("Enter the code from your authenticator app").fill(totp_code(device))
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
