"""Loading the partnership file: the partnership's organisations and bodies as its documents describe
them, created or updated by slug, all or nothing, with problems named by file, path and field."""
import pytest
import yaml
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from saferhub.audit.models import ChangeAction, ChangeRecord
from saferhub.core.factories import GovernanceBodyFactory, OrganisationFactory
from saferhub.core.importing import ImportFailed
from saferhub.partners.models import GovernanceBody, Organisation, Role
from saferhub.partners.services import partnership_import

# The agreed slugs and reporting lines (None: the body is at the top).
ORGANISATIONS = {
    "north-yorkshire-police": "police", "north-yorkshire-fire-and-rescue": "fire", "opfcc": "pcc_office",
    "north-yorkshire-council": "local_authority", "city-of-york-council": "local_authority", "idas": "provider",
    "foundation": "provider", "halo-project": "provider", "st-giles-trust": "provider", "changing-lives": "provider",
    "horton-housing": "provider", "survive": "provider", "north-yorkshire-horizons": "provider",
    "suzy-lamplugh-trust": "other", "safelives": "other", "crown-prosecution-service": "courts", "hmcts": "courts",
    "probation-service": "probation", "nhs-england": "health", "humber-and-north-yorkshire-icb": "health",
    "north-yorkshire-youth": "other", "youth-commission": "other",
    "north-yorkshire-learning-disability-partnership": "other", "all-about-respect": "other",
    "york-womens-centre": "provider",
}
REPORTING_LINES = {
    "north-yorkshire-csp": None,
    "safer-york-partnership": None,
    "vawg-strategic-governance-board": None,
    "joint-vawg-delivery-group": "vawg-strategic-governance-board",
    "vawg-professionals-sub-group": "vawg-strategic-governance-board",
    "da-local-partnership-board-north-yorkshire": "north-yorkshire-csp",
    "da-local-partnership-board-york": "safer-york-partnership",
    "marac-matac-steering-group": "da-local-partnership-board-north-yorkshire",
    "da-joint-commissioning-group": None,
    "da-scrutiny-panel": "vawg-strategic-governance-board",
    "rape-scrutiny-panel": "vawg-strategic-governance-board",
    "da-family-court-working-group": "joint-vawg-delivery-group",
    "joint-coordination-group": "north-yorkshire-csp",
    "inclusive-communities-jcg": "north-yorkshire-csp",
    "serious-violence-duty-group": "north-yorkshire-csp",
    "vawg-champions-task-and-finish-group": "joint-vawg-delivery-group",
    "white-ribbon-task-and-finish-group": "joint-vawg-delivery-group",
    "local-criminal-justice-partnership": None,
    # Others the seeds name
    "marac": "marac-matac-steering-group",
    "matac": "marac-matac-steering-group",
    "channel-panel-north-yorkshire": "prevent-partnership-board",
}


def test_the_partnership_file_holds_every_agreed_organisation_and_body(db):
    partnership_import()

    stored = dict(Organisation.objects.values_list("slug", "type"))
    for slug, org_type in ORGANISATIONS.items():
        assert stored.get(slug) == org_type, slug
    assert Organisation.objects.get(slug="north-yorkshire-council").aliases == ["North Yorkshire County Council", "NYCC"]
    lines = {b.slug: b.reports_to.slug if b.reports_to else None
             for b in GovernanceBody.objects.select_related("reports_to")}
    for slug, reports_to in REPORTING_LINES.items():
        assert slug in lines and lines[slug] == reports_to, slug
    # The MARAC/MATAC Steering Group reports through the DA board to the CSP.
    steering = GovernanceBody.objects.get(slug="marac-matac-steering-group")
    assert [b.slug for b in steering.reporting_line()] == [
        "marac-matac-steering-group", "da-local-partnership-board-north-yorkshire", "north-yorkshire-csp"]


def test_chairs_frequencies_and_members_are_as_the_documents_state(db):
    partnership_import()
    body = {b.slug: b for b in GovernanceBody.objects.select_related("chair_organisation").prefetch_related("members")}

    assert (body["north-yorkshire-csp"].chair_organisation.slug, body["north-yorkshire-csp"].chair_title) == (
        "north-yorkshire-police", "Assistant Chief Constable")
    assert (body["da-joint-commissioning-group"].chair_organisation.slug, body["da-joint-commissioning-group"].chair_title) == (
        "opfcc", "Commissioning and Partnerships Manager")
    assert body["channel-panel-north-yorkshire"].chair_title == "Head of Safer Communities"
    assert {slug: body[slug].meeting_frequency for slug in [
        "rape-scrutiny-panel", "da-family-court-working-group", "sex-work-survival-sex-and-sexual-exploitation-group",
        "marac", "matac"]} == {
        "rape-scrutiny-panel": "quarterly", "da-family-court-working-group": "quarterly",
        "sex-work-survival-sex-and-sexual-exploitation-group": "bi-monthly", "marac": "weekly", "matac": "every 4 weeks"}
    assert {o.slug for o in body["rape-scrutiny-panel"].members.all()} == {
        "north-yorkshire-police", "crown-prosecution-service", "opfcc"}
    assert body["da-joint-commissioning-group"].established == "2016"
    assert body["da-scrutiny-panel"].established == "2018"
    for seed_body in ["north-yorkshire-safeguarding-children-partnership", "north-yorkshire-safeguarding-adults-board",
                      "contest-board", "prevent-partnership-board", "strategic-sexual-assault-and-abuse-steering-group",
                      "exploitation-risk-assessment-conference", "modern-slavery-partnership",
                      "scarborough-stalking-clinic", "rape-investigation-improvement-group"]:
        assert seed_body in body


def test_loading_again_changes_nothing(db):
    partnership_import()
    before = (Organisation.objects.count(), GovernanceBody.objects.count(), ChangeRecord.objects.count())
    result = partnership_import()
    assert (Organisation.objects.count(), GovernanceBody.objects.count(), ChangeRecord.objects.count()) == before
    assert result.organisations_created == result.organisations_updated == 0
    assert result.bodies_created == result.bodies_updated == 0


def test_existing_records_are_updated_by_slug_and_the_change_recorded(db):
    police = OrganisationFactory(slug="north-yorkshire-police", name="NY Police (old name)", type="other")
    GovernanceBodyFactory(slug="rape-scrutiny-panel", name="Rape Panel", kind="group")
    partnership_import()
    police.refresh_from_db()
    assert (police.name, police.type, police.short_name) == ("North Yorkshire Police", "police", "NYP")
    assert GovernanceBody.objects.get(slug="rape-scrutiny-panel").kind == "panel"
    record = ChangeRecord.objects.filter(object_id=str(police.pk), action=ChangeAction.IMPORT).get(
        content_type__model="organisation")
    assert record.before["name"] == "NY Police (old name)" and record.after["name"] == "North Yorkshire Police"


def write(tmp_path, document, name="partners.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def small_file() -> dict:
    return {
        "organisations": [
            {"slug": "alpha-police", "name": "Alpha Police", "short_name": "AP", "type": "police"},
            {"slug": "beta-council", "name": "Beta Council", "type": "local_authority", "aliases": ["Beta CC"]},
        ],
        "bodies": [
            # Reports to a body later in the file.
            {"slug": "alpha-group", "name": "Alpha Group", "kind": "group", "reports_to": "alpha-board",
             "members": ["alpha-police", "beta-council"], "meeting_frequency": "monthly", "established": 2019},
            {"slug": "alpha-board", "name": "Alpha Board", "kind": "board", "chair_organisation": "beta-council",
             "chair_title": "Director of Community Safety"},
        ],
    }


def test_a_body_may_report_to_one_later_in_the_file(db, tmp_path):
    partnership_import(path=write(tmp_path, small_file()))
    group = GovernanceBody.objects.get(slug="alpha-group")
    assert group.reports_to.slug == "alpha-board"
    assert group.established == "2019"
    assert sorted(o.slug for o in group.members.all()) == ["alpha-police", "beta-council"]
    assert GovernanceBody.objects.get(slug="alpha-board").chair_organisation.slug == "beta-council"


BAD = {
    "unknown reports_to": (lambda d: d["bodies"][0].update(reports_to="nowhere"), "bodies[0].reports_to", "reports_to"),
    "unknown member": (lambda d: d["bodies"][0]["members"].append("ghost"), "bodies[0].members[2]", "members"),
    "unknown chair": (lambda d: d["bodies"][1].update(chair_organisation="ghost"), "bodies[1].chair_organisation",
                      "chair_organisation"),
    "bad organisation type": (lambda d: d["organisations"][0].update(type="army"), "organisations[0].type", "type"),
    "bad body kind": (lambda d: d["bodies"][1].update(kind="club"), "bodies[1].kind", "kind"),
    "duplicate slug": (lambda d: d["organisations"][1].update(slug="alpha-police"), "organisations[1].slug", "slug"),
    "missing name": (lambda d: d["organisations"][1].pop("name"), "organisations[1].name", "name"),
    "bad slug": (lambda d: d["bodies"][1].update(slug="Alpha Board"), "bodies[1].slug", "slug"),
    "unknown field": (lambda d: d["bodies"][1].update(chair="Someone"), "bodies[1].chair", "chair"),
    "circular reporting": (lambda d: d["bodies"][1].update(reports_to="alpha-group"), "bodies[0].reports_to", "reports_to"),
}


@pytest.mark.parametrize("case", BAD)
def test_each_kind_of_bad_entry_is_named_and_nothing_is_written(db, tmp_path, case):
    change, row, field = BAD[case]
    document = small_file()
    change(document)
    with pytest.raises(ImportFailed) as caught:
        partnership_import(path=write(tmp_path, document))
    problems = [(p.file.rsplit("/", 1)[-1], p.row, p.field) for p in caught.value.problems]
    assert ("partners.yaml", row, field) in problems
    assert not Organisation.objects.exists() and not GovernanceBody.objects.exists()


def test_only_administrators_may_load_partnership_data(make_user):
    with pytest.raises(PermissionDenied):
        partnership_import(user=make_user(Role.STRATEGY_MANAGER))
    partnership_import(user=make_user(Role.ADMINISTRATOR, username="admin-user"))
    assert GovernanceBody.objects.filter(slug="north-yorkshire-csp").exists()


def test_partners_command_loads_the_default_file_or_a_given_one(db, tmp_path, capsys):
    call_command("partners", "import")
    assert "governance bodies" in capsys.readouterr().out
    assert Organisation.objects.filter(slug="opfcc").exists()

    document = small_file()
    document["bodies"][0]["reports_to"] = "nowhere"
    path = write(tmp_path, document)
    with pytest.raises(CommandError):
        call_command("partners", "import", str(path))
    assert f"{path}:bodies[0].reports_to: reports_to: Unknown governance body 'nowhere'" in capsys.readouterr().err
    assert not Organisation.objects.filter(slug="alpha-police").exists()
