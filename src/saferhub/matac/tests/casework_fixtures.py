"""The MATAC casework test world: the police (owner), IDAS (a member agency), an organisation that
is not on the MATAC, their staff, a panel meeting every 4 weeks, and a small synthetic incident
store with people whose scores are known. Imported by the casework and outcome tests."""
from __future__ import annotations

import csv
import datetime as dt

import pytest
from django.utils import timezone

from saferhub.core.factories import GovernanceBodyFactory, OrganisationFactory
from saferhub.matac.models import MatacPanel
from saferhub.matac.store import ARROW_SCHEMA, IncidentStore, seal
from saferhub.partners.models import PersonalDataScope, Role

TODAY = timezone.localdate()


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


# (perpetrator, days ago, victim, category). Adoption dates in the tests are 400 days ago (A, B,
# D) or 900 days ago (C), so "before" and "after" below are relative to those.
INCIDENTS = [
    # A: serial before adoption (400 days ago), nothing since: lower at 12 months.
    ("NOM-A", 520, "V-A1", "common_assault"), ("NOM-A", 470, "V-A2", "abh"), ("NOM-A", 430, "V-A1", "harassment"),
    ("NOM-A", 405, "V-A2", "coercive_control"),
    # B: serial before and worse after adoption: higher at 12 months.
    ("NOM-B", 700, "V-B1", "non_crime"), ("NOM-B", 690, "V-B2", "non_crime"),
    ("NOM-B", 120, "V-B3", "gbh"), ("NOM-B", 80, "V-B1", "strangulation"), ("NOM-B", 60, "V-B4", "rape"),
    ("NOM-B", 50, "V-B2", "threats_to_kill"),
    # C: adopted 900 days ago, last incident 905 days ago: no incident in the last 2 years.
    ("NOM-C", 1000, "V-C1", "harassment"), ("NOM-C", 905, "V-C2", "stalking"),
    # D: the same score at adoption and 12 months later (R 3, F 2, G 1, V 2 both times).
    ("NOM-D", 700, "V-D1", "non_crime"), ("NOM-D", 690, "V-D2", "non_crime"), ("NOM-D", 325, "V-D1", "non_crime"),
    # S: one victim only: never eligible (a partner referral recorded as not eligible).
    ("NOM-S", 100, "V-S1", "common_assault"), ("NOM-S", 90, "V-S1", "common_assault"),
    # Y: two victims but 15 at the last incident.
    ("NOM-Y", 40, "V-Y1", "common_assault"), ("NOM-Y", 30, "V-Y2", "common_assault"),
]
DOBS = {"NOM-Y": days_ago(15 * 365 + 200)}


def write_extract(path, rows=INCIDENTS) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["incident_id", "incident_date", "perpetrator_id", "perpetrator_dob", "victim_id", "offence_category"])
        for n, (pid, ago, victim, category) in enumerate(rows, start=1):
            writer.writerow([f"SYN-{n:05d}", days_ago(ago).isoformat(), pid, DOBS.get(pid, dt.date(1985, 6, 1)).isoformat(),
                             victim, category])


def store_fill(store: IncidentStore, rows=INCIDENTS) -> None:
    """Seal the rows into the store as one segment, as an import would (the import itself is the
    scoring tests' subject; these tests need only a store holding known rows)."""
    import hashlib
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {name: [] for name in ARROW_SCHEMA.names}
    for n, (pid, ago, victim, category) in enumerate(rows, start=1):
        values = {"incident_id": f"SYN-{n:05d}", "incident_date": days_ago(ago), "perpetrator_id": pid,
                  "perpetrator_dob": DOBS.get(pid, dt.date(1985, 6, 1)), "victim_id": victim,
                  "offence_category": category, "crime_flag": category != "non_crime", "location": "York"}
        for name in columns:
            columns[name].append(values[name])
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(columns, schema=ARROW_SCHEMA), sink)
    plaintext = sink.getvalue().to_pybytes()
    store.directory.mkdir(parents=True, exist_ok=True)
    name = f"segment-test-{len(store.manifest()['segments'])}.sealed"
    (store.directory / name).write_bytes(seal(plaintext, name.encode()))
    manifest = store.manifest()
    manifest["segments"].append({"name": name, "rows": len(rows), "sha256": hashlib.sha256(plaintext).hexdigest()})
    store.manifest_path.write_text(json.dumps(manifest))


@pytest.fixture
def store(tmp_path, settings):
    settings.MATAC_STORE_DIR = str(tmp_path / "store")
    store = IncidentStore(settings.MATAC_STORE_DIR)
    store_fill(store)
    return store


@pytest.fixture
def mw(db, store, organisation, other_organisation, make_user):
    """The MATAC world."""
    outsider_org = OrganisationFactory(slug="housing-co", name="Housing Co", short_name="HC", type="provider")
    body = GovernanceBodyFactory(slug="matac", name="MATAC")
    body.members.add(other_organisation)
    panel = MatacPanel.objects.create(slug="nyy", name="North Yorkshire and York", police=organisation,
                                      first_meeting_date=days_ago(28 * 20), default_venue="Police HQ",
                                      chair_role="Detective Chief Inspector")
    panel.members.add(other_organisation)

    def user(name, org, role=Role.CONTRIBUTOR, scope=PersonalDataScope.PARTIES):
        return make_user(role, org=org, username=name, personal_data_scope=scope, email=f"{name}@example.org")

    return {
        "panel": panel, "police": organisation, "idas": other_organisation, "outsider_org": outsider_org,
        "officer": user("officer", organisation), "idas_worker": user("idas_worker", other_organisation),
        "police_viewer": user("police_viewer", organisation, Role.VIEWER),
        "outsider": user("outsider", outsider_org), "no_scope": user("no_scope_m", organisation, scope=PersonalDataScope.NONE),
        "store": store,
    }


def meeting_on(panel, date):
    from saferhub.matac.models import MatacMeeting

    return MatacMeeting.objects.get_or_create(panel=panel, date=date, defaults={"venue": "Police HQ"})[0]
