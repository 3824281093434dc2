from django.apps import AppConfig


def case_events(case_ids):
    """The events on the cases' MATAC nominations, action plans, reviews and exits."""
    from saferhub.matac.models import Exit, MatacAction, Nomination, Review
    from saferhub.people.selectors import events_on

    return (events_on("matac_nomination", Nomination.objects.filter(case_id__in=case_ids))
            | events_on("matac_action", MatacAction.objects.filter(adoption__nomination__case_id__in=case_ids))
            | events_on("matac_review", Review.objects.filter(adoption__nomination__case_id__in=case_ids))
            | events_on("matac_exit", Exit.objects.filter(adoption__nomination__case_id__in=case_ids)))


class MatacConfig(AppConfig):
    name = "saferhub.matac"
    label = "matac"
    verbose_name = "MATAC"

    def ready(self):
        from saferhub.people.selectors import CASE_EVENT_SOURCES

        if case_events not in CASE_EVENT_SOURCES:
            CASE_EVENT_SOURCES.append(case_events)
