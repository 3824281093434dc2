"""`saferhub matac import FILE [--rejects FILE]`, `saferhub matac score [--input FILE]
--reference-date YYYY-MM-DD --output FILE.csv [--top N] [--engine duckdb|spark] [--scheme
NAME[:VERSION]]`, `saferhub matac verify RUN [--input FILE]`, `saferhub matac remove (--perpetrator-id ID |
--victim-id ID | --before YYYY-MM-DD) --reason TEXT` and `saferhub matac schemes [--show
NAME[:VERSION]]`: police extracts into the encrypted incident store, ranked lists of serial
perpetrators, checking a kept list can be reproduced, removing rows, and the scoring schemes."""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from saferhub.matac import scoring_services as services
from saferhub.matac.engines import ENGINES
from saferhub.matac.models import ScoringScheme
from saferhub.matac.store import ExtractError
from saferhub.partners.models import User

CSV_HEADER = ["rank", "perpetrator_id", "R", "F", "G", "V", "score", "incident_count", "distinct_victims", "gravity_sum",
              "last_incident_date", "age_at_last_incident"]


def write_ranked_csv(rows, path: Path) -> None:
    """The ranked list as CSV. It names people: readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for row in rows:
            writer.writerow([row.rank, row.perpetrator_id, row.r, row.f, row.g, row.v, row.score, row.incident_count,
                             row.distinct_victims, row.gravity_sum, row.last_incident_date.isoformat(),
                             row.age_at_last_incident])


def _date(value: str, option: str = "--reference-date") -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} must be a date as YYYY-MM-DD, not {value!r}") from None


class Command(BaseCommand):
    help = "MATAC: import police incident extracts, score serial perpetrators, list scoring schemes."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        imp = sub.add_parser("import", help="Validate an extract (CSV or Parquet) and load it into the store")
        imp.add_argument("file")
        imp.add_argument("--rejects", help="Where to write the rejects CSV (default: beside the store)")
        imp.add_argument("--user", help="The account the import is recorded against (default: the system)")
        sc = sub.add_parser("score", help="Write the ranked list of eligible perpetrators as CSV")
        sc.add_argument("--input", help="Score this extract file directly (validated; the store is left alone). "
                                        "Without it, the store is scored.")
        sc.add_argument("--reference-date", required=True, help="YYYY-MM-DD: the last day of the window")
        sc.add_argument("--top", type=int, help="Keep ranks 1..N (default: every eligible perpetrator)")
        sc.add_argument("--output", required=True, help="The CSV file to write")
        sc.add_argument("--engine", choices=ENGINES, default=None,
                        help="Scoring engine (default: setting MATAC_ENGINE or SAFERHUB_MATAC_ENGINE, else duckdb)")
        sc.add_argument("--scheme", help="NAME or NAME:VERSION (default: the default scheme)")
        sc.add_argument("--user", help="The account the run is recorded against (default: the system)")
        sc.add_argument("--no-record", action="store_true",
                        help="Do not keep the run in the database (the input hash is still printed)")
        remove = sub.add_parser("remove", help="Remove a person's rows, or rows before a date, from the store")
        which = remove.add_mutually_exclusive_group(required=True)
        which.add_argument("--perpetrator-id")
        which.add_argument("--victim-id")
        which.add_argument("--before", help="YYYY-MM-DD: remove every row dated before this day")
        remove.add_argument("--reason", required=True, help="Why (kept in the audit trail; no personal details)")
        remove.add_argument("--user", help="The account the removal is recorded against (default: the system)")
        verify = sub.add_parser("verify", help="Score a kept run again and say whether the same list comes out")
        verify.add_argument("run", type=int, help="The run's number")
        verify.add_argument("--input", help="The extract file, for a run that scored a file directly")
        verify.add_argument("--user", help="The account the check is recorded against (default: the system)")
        schemes = sub.add_parser("schemes", help="List scoring scheme versions, or show one")
        schemes.add_argument("--show", metavar="NAME[:VERSION]", help="Print one version's parameters as JSON")

    def handle(self, *args, subcommand, **options):
        try:
            getattr(self, f"_{subcommand}")(options)
        except (ValidationError, ExtractError) as error:
            messages = error.messages if isinstance(error, ValidationError) else [str(error)]
            raise CommandError("; ".join(messages)) from None
        except (PermissionDenied, Http404):
            raise CommandError("That account may not use MATAC scoring.") from None

    def _user(self, options):
        name = options.get("user")
        if not name:
            return None
        user = User.objects.filter(username=name).first()
        if user is None:
            raise CommandError(f"No account is called {name}")
        return user

    def _import(self, options):
        extract = services.extract_import(user=self._user(options), path=options["file"], rejects_path=options["rejects"])
        self.stdout.write(
            f"{extract.file_name}: {extract.rows_read} rows read, {extract.rows_accepted} accepted "
            f"({extract.rows_added} added, {extract.rows_already_loaded} already loaded), "
            f"{extract.rows_rejected} rejected; accepted + rejected = read.\n"
            f"Rejects: {extract.rejects_path}\nStore hash: {extract.store_hash}")
        if extract.ignored_columns:
            self.stdout.write(f"Columns ignored: {', '.join(extract.ignored_columns)}")

    def _score(self, options):
        reference_date = _date(options["reference_date"])
        engine = options["engine"] or services.default_engine()
        output = Path(options["output"])
        top = options["top"]
        if top is not None and top < 1:
            raise CommandError("--top must be at least 1")
        if options["input"] and not Path(options["input"]).exists():
            raise CommandError(f"{options['input']}: the file does not exist")
        if options["no_record"]:
            rows, input_hash = services.ranked_list_compute(
                user=self._user(options), reference_date=reference_date, scheme=options["scheme"], engine=engine,
                top=top, input_path=options["input"])
            write_ranked_csv(rows, output)
            self.stdout.write(f"{len(rows)} perpetrators written to {output} (run not recorded); input hash {input_hash}")
            return
        run = services.scoring_run_create(user=self._user(options), reference_date=reference_date,
                                          scheme=options["scheme"], engine=engine, top=top, input_path=options["input"])
        rows = [row.score_row() for row in run.rows.order_by("rank")]
        write_ranked_csv(rows, output)
        self.stdout.write(f"Run {run.pk}: {run.listed_count} of {run.eligible_count} eligible perpetrators written to "
                          f"{output} ({run.scheme.label}, {engine}, reference date {reference_date:%Y-%m-%d}); "
                          f"input hash {run.input_hash}")

    def _remove(self, options):
        before = _date(options["before"], "--before") if options["before"] else None
        removed = services.store_rows_remove(user=self._user(options), reason=options["reason"], before=before,
                                             perpetrator_id=options["perpetrator_id"], victim_id=options["victim_id"])
        self.stdout.write(f"{removed} rows removed from the incident store")

    def _verify(self, options):
        from saferhub.matac.models import ScoringRun

        run = ScoringRun.objects.filter(pk=options["run"]).select_related("scheme").first()
        if run is None:
            raise CommandError(f"There is no run {options['run']}")
        result = services.scoring_run_reproduce(user=self._user(options), run=run, input_path=options["input"])
        if result.reproduced:
            self.stdout.write(f"{run.reference_label} reproduced: same input hash, same ranked list")
            return
        problems = [text for ok, text in ((result.same_input, "the input has changed since the run"),
                                          (result.same_list, "the ranked list differs")) if not ok]
        raise CommandError(f"{run.reference_label} not reproduced: {'; '.join(problems)}")

    def _schemes(self, options):
        if options["show"]:
            record = services.scheme_resolve(options["show"])
            self.stdout.write(json.dumps(record.parameters, indent=2, sort_keys=True))
            return
        services.scheme_default()
        for record in ScoringScheme.objects.order_by("name", "-version"):
            mark = " (default)" if record.is_default else ""
            self.stdout.write(f"{record.label}{mark}\t{record.created_at:%Y-%m-%d}\t{record.digest[:12]}\t{record.note}")
