"""The synthetic MATAC demonstration: built through the services (audit chain intact), with
adoptions more than 12 months ago re-scored, actions, reviews and exits, and loading it again adds
nothing."""
import pytest

from saferhub.audit.trail import chain_verify
from saferhub.core.factories import OrganisationFactory
from saferhub.matac.demo import matac_demo_load
from saferhub.matac.models import Adoption, Exit, MatacAction, MatacScore, Nomination, Review, ScoreStage

pytestmark = pytest.mark.django_db


@pytest.fixture
def partnership(db, settings, tmp_path):
    settings.MATAC_STORE_DIR = str(tmp_path / "store")
    for slug, kind in (("north-yorkshire-police", "police"), ("idas", "provider"), ("probation-service", "probation"),
                       ("north-yorkshire-council", "local_authority"), ("city-of-york-council", "local_authority")):
        OrganisationFactory(slug=slug, name=slug.replace("-", " ").title(), type=kind)


def test_demo_builds_a_matac_and_loads_once(partnership):
    lines = matac_demo_load(incidents=4000)
    assert any("incident store" in line for line in lines)
    assert Nomination.objects.filter(source="ranked_list").count() >= 8
    assert Nomination.objects.filter(source="partner_referral").count() == 2
    assert Nomination.objects.filter(status="not_adopted").exists()
    adoptions = Adoption.objects.all()
    assert adoptions.count() >= 6
    assert MatacScore.objects.filter(stage=ScoreStage.TWELVE_MONTHS).count() >= 4
    assert MatacAction.objects.exists() and Review.objects.exists() and Exit.objects.exists()
    assert MatacScore.objects.filter(stage=ScoreStage.NOMINATION, eligible=False).exists()
    assert Nomination.objects.filter(status="awaiting").exists()
    from saferhub.performance.models import DataValue

    assert DataValue.objects.filter(service__slug="matac-north-yorkshire-and-york", data_element__slug="matac-adoptions").exists()
    checked, problem = chain_verify()
    assert problem is None and checked > 0
    count = Nomination.objects.count()
    again = matac_demo_load(incidents=4000)
    assert Nomination.objects.count() == count and any("already loaded" in line for line in again)
