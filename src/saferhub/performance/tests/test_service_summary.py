"""A service's summary lists each of its targets once, however many services report the element."""
import datetime as dt

from saferhub.commissioning.models import Service
from saferhub.performance import dashboards
from saferhub.performance.models import DataElement, Target
from saferhub.performance.periods import FinancialQuarter

Q3 = FinancialQuarter.parse("2023/24-Q3")


def test_each_target_once_when_other_services_report_the_element(hub):
    enquiries = DataElement.objects.get(slug="enquiries")
    for n in range(3):
        enquiries.services.add(Service.objects.create(slug=f"other-{n}", name=f"Other {n}", provider=hub.provider))
    own = Target.objects.create(data_element=enquiries, service=hub, due=dt.date(2024, 3, 31), value=30)
    shared = Target.objects.create(data_element=enquiries, service=None, due=dt.date(2024, 3, 31), value=90)
    Target.objects.create(data_element=enquiries, service=Service.objects.get(slug="other-0"), due=dt.date(2024, 3, 31), value=5)
    page = dashboards.service_dashboard(slug="hub", quarter=Q3)
    assert sorted(s.target.pk for s in page.target_statuses) == sorted([own.pk, shared.pk])
    row = next(r for r in page.rows if r.element.pk == enquiries.pk)
    assert row.key and len(row.targets) == 2
