from django.apps import AppConfig


def case_events(case_ids):
    """The events on the cases' MARAC referrals, their agencies' research and their action plans."""
    from saferhub.marac.models import AgencyResearch, MaracAction, MaracReferral
    from saferhub.marac.action_services import RECORD_TYPE as ACTION_RECORD_TYPE
    from saferhub.people.selectors import events_on

    return (events_on("marac_referral", MaracReferral.objects.filter(case_id__in=case_ids))
            | events_on("marac_research", AgencyResearch.objects.filter(referral__case_id__in=case_ids))
            | events_on(ACTION_RECORD_TYPE, MaracAction.objects.filter(referral__case_id__in=case_ids)))


class MaracConfig(AppConfig):
    name = "saferhub.marac"
    label = "marac"
    verbose_name = "MARAC"

    def ready(self):
        from saferhub.people.selectors import CASE_EVENT_SOURCES

        if case_events not in CASE_EVENT_SOURCES:
            CASE_EVENT_SOURCES.append(case_events)
