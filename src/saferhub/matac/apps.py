from django.apps import AppConfig


def case_events(case):
    """The events on a case's MATAC nomination, its action plan, reviews and exit."""
    from saferhub.matac.models import Exit, MatacAction, Nomination, Review
    from saferhub.people.selectors import events_on

    return (events_on("matac_nomination", Nomination.objects.filter(case=case))
            | events_on("matac_action", MatacAction.objects.filter(adoption__nomination__case=case))
            | events_on("matac_review", Review.objects.filter(adoption__nomination__case=case))
            | events_on("matac_exit", Exit.objects.filter(adoption__nomination__case=case)))


class MatacConfig(AppConfig):
    name = "saferhub.matac"
    label = "matac"
    verbose_name = "MATAC"

    def ready(self):
        from saferhub.people.selectors import CASE_EVENT_SOURCES

        if case_events not in CASE_EVENT_SOURCES:
            CASE_EVENT_SOURCES.append(case_events)
