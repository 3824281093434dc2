"""Two-factor sign-in: who must use it, setting it up, entering codes, backup codes, the API and admin."""
import re

import pytest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from saferhub.accounts import throttle
from saferhub.accounts.services import CODE_LOCKED_MESSAGE
from saferhub.accounts.testing import otp_login, totp_code, totp_device
from saferhub.audit.models import AuditAction, AuditEvent
from saferhub.partners.models import PersonalDataScope

PASSWORD = "correct-horse-battery"


def sign_in(client, username, next_url=""):
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post("/sign-in/", data)
    assert response.status_code == 302, response.content.decode()
    return response


def fresh_code(device) -> str:
    device.refresh_from_db()
    return totp_code(device)


def set_up(client, user) -> list[str]:
    """Go through set-up as the user would; return the backup codes shown."""
    client.get("/account/two-factor/set-up/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/account/two-factor/set-up/", {"code": totp_code(device)})
    assert response.status_code == 302 and response["Location"].startswith("/account/two-factor/backup-codes/")
    page = client.get(response["Location"]).content.decode()
    return [code.replace(" ", "") for code in re.findall(r"<code>([a-z2-7]{4} [a-z2-7]{4})</code>", page)]


@pytest.mark.django_db
def test_staff_without_personal_data_need_no_second_factor(client, viewer):
    sign_in(client, "viewer")
    assert client.get("/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("user_fixture", ["caseworker", "dp_lead"])
def test_staff_who_see_personal_data_are_sent_to_set_it_up_first(client, user_fixture, request):
    user = request.getfixturevalue(user_fixture)
    sign_in(client, user.username, next_url="/strategies/")
    response = client.get("/strategies/")
    assert response.status_code == 302
    assert response["Location"] == "/account/two-factor/set-up/?next=%2Fstrategies%2F"


@pytest.mark.django_db
def test_setting_up_shows_the_key_and_link_then_backup_codes_once(client, caseworker):
    sign_in(client, "caseworker")
    page = client.get("/account/two-factor/set-up/").content.decode()
    device = TOTPDevice.objects.get(user=caseworker, confirmed=False)
    secret = re.search(r'id="setup-key">([A-Z2-7 ]+)<', page).group(1)
    assert len(secret.replace(" ", "")) == 32 and all(len(group) == 4 for group in secret.split())
    assert "otpauth://totp/Saferhub%3Acaseworker?secret=" in page
    # A wrong code is explained, and nothing is confirmed.
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    response = client.post("/account/two-factor/set-up/", {"code": wrong})
    assert response.status_code == 200
    assert "Enter the 6-digit code your authenticator app shows for Saferhub" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=caseworker, confirmed=True).exists()
    # Django-otp makes the next try wait a second after a wrong one.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)

    response = client.post("/account/two-factor/set-up/?next=/strategies/", {"code": fresh_code(device), "next": "/strategies/"})
    assert response["Location"] == "/account/two-factor/backup-codes/?next=%2Fstrategies%2F"
    page = client.get(response["Location"]).content.decode()
    codes = re.findall(r"<code>([a-z2-7]{4} [a-z2-7]{4})</code>", page)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert 'href="/strategies/"' in page
    # Shown once only.
    assert "<code>" not in client.get("/account/two-factor/backup-codes/").content.decode()
    # The session is verified: pages open.
    assert client.get("/strategies/").status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE, record_id=str(caseworker.pk), fields=["two_factor"]).exists()


@pytest.mark.django_db
def test_next_sign_in_asks_for_a_code(client, caseworker):
    sign_in(client, "caseworker")
    set_up(client, caseworker)
    client.post("/sign-out/")
    sign_in(client, "caseworker")
    response = client.get("/")
    assert response["Location"] == "/account/two-factor/verify/?next=%2F"
    page = client.get(response["Location"]).content.decode()
    assert "Enter the code from your authenticator app" in page
    device = TOTPDevice.objects.get(user=caseworker)
    response = client.post("/account/two-factor/verify/", {"code": fresh_code(device), "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event.action == AuditAction.SIGN_IN and event.detail["method"] == "authenticator app"


@pytest.mark.django_db
def test_a_wrong_code_is_an_error_and_is_audited(client, caseworker):
    device = totp_device(caseworker)
    sign_in(client, "caseworker")
    wrong = f"{(int(totp_code(device)) + 500_000) % 1_000_000:06d}"
    response = client.post("/account/two-factor/verify/", {"code": wrong})
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html and "govuk-error-message" in html
    assert client.get("/").status_code == 302
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event.action == AuditAction.SIGN_IN_FAILED and event.detail["stage"] == "second factor"
    assert event.record_id == str(caseworker.pk)


@pytest.mark.django_db
def test_code_entry_locks_after_five_wrong_codes(client, caseworker, clock):
    device = totp_device(caseworker)
    sign_in(client, "caseworker")
    for n in range(5):
        # Clear django-otp's own back-off so each try is counted by the lockout.
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
        response = client.post("/account/two-factor/verify/", {"code": "000000" if n % 2 else "999999"})
    assert CODE_LOCKED_MESSAGE in response.content.decode()
    # Locked: even the right code is refused for 15 minutes.
    response = client.post("/account/two-factor/verify/", {"code": fresh_code(device)})
    assert CODE_LOCKED_MESSAGE in response.content.decode()
    assert throttle.locked_until(throttle.code_key(caseworker.pk)) is not None
    clock.advance(minutes=15, seconds=1)
    # The idle limit would have signed them out meanwhile: the lock outlives the session.
    sign_in(client, "caseworker")
    response = client.post("/account/two-factor/verify/", {"code": fresh_code(device), "next": "/"})
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_a_code_cannot_be_used_twice(client, caseworker):
    device = totp_device(caseworker)
    sign_in(client, "caseworker")
    code = fresh_code(device)
    assert client.post("/account/two-factor/verify/", {"code": code})["Location"] == "/"
    client.post("/sign-out/")
    sign_in(client, "caseworker")
    response = client.post("/account/two-factor/verify/", {"code": code})
    assert response.status_code == 200


@pytest.mark.django_db
def test_backup_codes_work_once_each(client, caseworker):
    sign_in(client, "caseworker")
    codes = set_up(client, caseworker)
    assert len(codes) == 10
    client.post("/sign-out/")
    sign_in(client, "caseworker")
    # Typed with a space and in capitals, as people copy them.
    spaced = f"{codes[0][:4].upper()} {codes[0][4:].upper()}"
    response = client.post("/account/two-factor/verify/", {"code": spaced, "next": "/"})
    assert response["Location"] == "/"
    assert StaticToken.objects.filter(device__user=caseworker).count() == 9
    assert AuditEvent.objects.order_by("-sequence").first().detail["method"] == "backup code"
    client.post("/sign-out/")
    sign_in(client, "caseworker")
    response = client.post("/account/two-factor/verify/", {"code": codes[0]})
    assert response.status_code == 200 and "There is a problem" in response.content.decode()
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_new_backup_codes_replace_the_old(client, caseworker):
    sign_in(client, "caseworker")
    old = set_up(client, caseworker)
    response = client.post("/account/two-factor/backup-codes/")
    assert response.status_code == 302
    page = client.get("/account/two-factor/backup-codes/").content.decode()
    new = [c.replace(" ", "") for c in re.findall(r"<code>([a-z2-7]{4} [a-z2-7]{4})</code>", page)]
    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.filter(device__user=caseworker).values_list("token", flat=True)) == set(new)


@pytest.mark.django_db
def test_an_unverified_session_cannot_set_up_a_new_app_or_new_codes(client, caseworker):
    totp_device(caseworker)
    sign_in(client, "caseworker")
    response = client.get("/account/two-factor/set-up/")
    assert response["Location"].startswith("/account/two-factor/verify/")
    assert client.post("/account/two-factor/backup-codes/").status_code == 403


@pytest.mark.django_db
def test_api_requests_without_the_second_factor_get_403_json(client, caseworker):
    sign_in(client, "caseworker")
    response = client.get("/api/strategies/")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert "authenticator app" in response.json()["detail"]


@pytest.mark.django_db
def test_api_requests_after_the_second_factor_are_answered(client, caseworker):
    otp_login(client, caseworker)
    assert client.get("/api/strategies/").status_code == 200


@pytest.mark.django_db
def test_api_for_staff_without_personal_data_is_unchanged(client, viewer):
    client.force_login(viewer)
    assert client.get("/api/strategies/").status_code == 200


@pytest.mark.django_db
def test_public_pages_and_signing_out_stay_open_before_the_code(client, caseworker):
    sign_in(client, "caseworker")
    assert client.get("/accessibility/").status_code == 200
    assert client.post("/sign-out/").status_code == 302
    assert client.get("/").status_code == 302
    assert client.get("/")["Location"].startswith("/sign-in/")


@pytest.mark.django_db
def test_gaining_personal_data_access_mid_session_asks_for_the_second_factor(client, viewer):
    sign_in(client, "viewer")
    assert client.get("/").status_code == 200
    viewer.personal_data_scope = PersonalDataScope.ALL
    viewer.save()
    assert client.get("/")["Location"].startswith("/account/two-factor/set-up/")


@pytest.mark.django_db
def test_staff_who_chose_two_factor_are_asked_for_it(client, viewer):
    sign_in(client, "viewer")
    set_up(client, viewer)
    client.post("/sign-out/")
    sign_in(client, "viewer")
    assert client.get("/")["Location"] == "/account/two-factor/verify/?next=%2F"


@pytest.mark.django_db
def test_the_django_admin_needs_the_second_factor_even_without_personal_data(client, make_user):
    admin = make_user("administrator", username="root", is_staff=True, is_superuser=True)
    sign_in(client, "root")
    assert client.get("/").status_code == 200
    response = client.get("/django-admin/")
    assert response.status_code == 302 and response["Location"].startswith("/account/two-factor/set-up/")
    set_up(client, admin)
    assert client.get("/django-admin/").status_code == 200


@pytest.mark.django_db
def test_the_admin_signs_in_through_saferhub(client, viewer):
    response = client.get("/django-admin/login/?next=/django-admin/")
    assert response["Location"] == "/sign-in/?next=/django-admin/"
    client.force_login(viewer)
    assert client.get("/django-admin/login/?next=/django-admin/").status_code == 403


@pytest.mark.django_db
def test_otp_login_gives_a_verified_session(client, caseworker):
    otp_login(client, caseworker)
    assert client.get("/").status_code == 200
    otp_login(client, caseworker)
    assert TOTPDevice.objects.filter(user=caseworker).count() == 1


@pytest.mark.django_db
def test_htmx_requests_are_redirected_with_a_header(client, caseworker):
    sign_in(client, "caseworker")
    response = client.get("/strategies/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/account/two-factor/set-up/")
