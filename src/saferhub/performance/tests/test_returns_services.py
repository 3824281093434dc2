"""The life of a data return: draft, figures, submit (errors block, warnings need comments),
approve and lock, reopen; who may do each; history kept."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from saferhub.audit.services import history_for
from saferhub.partners.models import Role
from saferhub.performance import services
from saferhub.performance.models import ReturnStatus
from saferhub.performance.periods import FinancialQuarter
from saferhub.performance.validation import ValueSet

Q3 = FinancialQuarter.parse("2023/24-Q3")


def figures(individuals=1627, female=1430, male=197, months=(867, 887, 737), total=2491):
    values = ValueSet(Q3)
    for month, v in zip(Q3.months, months):
        values.set("enquiries", v, month=month)
    values.set("enquiries", total)
    values.set("individuals", individuals)
    values.set("individuals", female, option="female")
    values.set("individuals", male, option="male")
    return values


@pytest.fixture
def provider(make_user, other_organisation):
    return make_user(Role.CONTRIBUTOR, org=other_organisation, username="idas.worker")


def test_provider_fills_in_and_submits(hub, provider):
    data_return = services.data_return_open(user=provider, service=hub, quarter=Q3)
    services.data_return_save_values(user=provider, data_return=data_return, values=figures())
    services.data_return_submit(user=provider, data_return=data_return)
    data_return.refresh_from_db()
    assert data_return.status == ReturnStatus.SUBMITTED and data_return.submitted_by == provider


def test_errors_block_submission_and_say_what_is_wrong(hub, provider):
    data_return = services.data_return_open(user=provider, service=hub, quarter=Q3)
    services.data_return_save_values(user=provider, data_return=data_return, values=figures(male=196))
    with pytest.raises(ValidationError) as exc:
        services.data_return_submit(user=provider, data_return=data_return)
    assert "Breakdowns add up" in str(exc.value) and "1626" in str(exc.value)
    data_return.refresh_from_db()
    assert data_return.status == ReturnStatus.DRAFT


def test_warning_needs_a_comment(hub, provider):
    data_return = services.data_return_open(user=provider, service=hub, quarter=Q3)
    values = figures(individuals=100, female=60, male=40, months=(100, 100, 100), total=300)
    services.data_return_save_values(user=provider, data_return=data_return, values=values)
    with pytest.raises(ValidationError) as exc:
        services.data_return_submit(user=provider, data_return=data_return)
    assert "comment-many-repeat-enquiries" in exc.value.message_dict
    services.data_return_submit(user=provider, data_return=data_return,
                                comments={"many-repeat-enquiries": "A campaign brought repeat calls"})
    data_return.refresh_from_db()
    assert data_return.warning_comments == {"many-repeat-enquiries": "A campaign brought repeat calls"}


def test_approved_return_is_locked(hub, provider, manager):
    data_return = services.data_return_open(user=provider, service=hub, quarter=Q3)
    services.data_return_save_values(user=provider, data_return=data_return, values=figures())
    services.data_return_submit(user=provider, data_return=data_return)
    services.data_return_approve(user=manager, data_return=data_return)
    with pytest.raises(ValidationError, match="approved and locked"):
        services.data_return_save_values(user=manager, data_return=data_return, values=figures())
    with pytest.raises(ValidationError):
        services.data_return_reopen(user=manager, data_return=data_return, reason="Typo")


def test_second_submission_for_the_same_quarter_is_refused(hub, provider):
    data_return = services.data_return_open(user=provider, service=hub, quarter=Q3)
    services.data_return_save_values(user=provider, data_return=data_return, values=figures())
    services.data_return_submit(user=provider, data_return=data_return)
    again = services.data_return_open(user=provider, service=hub, quarter=Q3)
    assert again.pk == data_return.pk
    with pytest.raises(ValidationError, match="already been submitted"):
        services.data_return_submit(user=provider, data_return=again)
    with pytest.raises(ValidationError, match="has been submitted"):
        services.data_return_save_values(user=provider, data_return=again, values=figures())


def test_reopen_sends_back_with_reason_and_history_is_kept(hub, provider, manager):
    data_return = services.data_return_open(user=provider, service=hub, quarter=Q3)
    services.data_return_save_values(user=provider, data_return=data_return, values=figures())
    services.data_return_submit(user=provider, data_return=data_return)
    with pytest.raises(ValidationError):
        services.data_return_reopen(user=manager, data_return=data_return, reason=" ")
    services.data_return_reopen(user=manager, data_return=data_return, reason="November looks low")
    services.data_return_save_values(user=provider, data_return=data_return, values=figures(months=(867, 888, 736)))
    changes = list(history_for(data_return))
    assert changes[0].before["enquiries@M2023-11-01"] == 887 and changes[0].after["enquiries@M2023-11-01"] == 888
    assert any(c.after.get("reason") == "November looks low" for c in changes)


def test_who_may_do_what(hub, make_user, organisation, provider, manager):
    police_contributor = make_user(Role.CONTRIBUTOR, org=organisation, username="nyp")
    viewer = make_user(Role.VIEWER, org=hub.provider, username="idas.viewer")
    for user in (police_contributor, viewer):
        with pytest.raises(PermissionDenied):
            services.data_return_open(user=user, service=hub, quarter=Q3)
    data_return = services.data_return_open(user=provider, service=hub, quarter=Q3)
    services.data_return_save_values(user=provider, data_return=data_return, values=figures())
    services.data_return_submit(user=provider, data_return=data_return)
    with pytest.raises(PermissionDenied):
        services.data_return_approve(user=provider, data_return=data_return)
    services.data_return_approve(user=manager, data_return=data_return)


def test_figures_for_another_quarter_or_negative_are_refused(hub, provider):
    data_return = services.data_return_open(user=provider, service=hub, quarter=Q3)
    with pytest.raises(ValidationError, match="Q2 2023/24"):
        services.data_return_save_values(user=provider, data_return=data_return, values=ValueSet(Q3.previous()))
    values = figures()
    values.set("individuals", -1, option="male")
    with pytest.raises(ValidationError, match="negative"):
        services.data_return_save_values(user=provider, data_return=data_return, values=values)
    assert not data_return.values.exists()
