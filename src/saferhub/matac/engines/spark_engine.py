"""RFGV scoring on Apache Spark (PySpark DataFrame API), for incident data beyond one machine: the
same definitions as the DuckDB engine (saferhub.matac.scheme's docstring), the same ranked list.

The session is local by default (`local[*]`, no web UI, driver bound to 127.0.0.1, few shuffle
partitions for small data); a cluster is a setting, not a code change:

- SAFERHUB_SPARK_MASTER (Django setting or environment variable): the master URL, e.g.
  `local[*]`, `spark://host:7077`.
- SAFERHUB_SPARK_SHUFFLE_PARTITIONS: shuffle partitions (default 8).
- SAFERHUB_SPARK_DRIVER_MEMORY: driver memory when this process starts the JVM (e.g. `4g`).
- SAFERHUB_SPARK_LOCAL_DIR: where Spark may spill. The Parquet input is plaintext personal data,
  and so is anything Spark spills: point this at a directory only the scoring process can read."""
from __future__ import annotations

import datetime as dt
import os
import threading
from itertools import chain
from typing import Iterable

from saferhub.matac.engines import ScoreRow
from saferhub.matac.scheme import Scheme

_lock = threading.Lock()


def _setting(name: str, default: str | None = None) -> str | None:
    try:
        from django.conf import settings

        if settings.configured and getattr(settings, name, None):
            return str(getattr(settings, name))
    except ImportError:
        pass
    return os.environ.get(name) or default


def spark_session():
    """The process's Spark session, started on first use with Saferhub's configuration."""
    from pyspark.sql import SparkSession

    with _lock:
        active = SparkSession.getActiveSession()
        if active is not None:
            return active
        master = _setting("SAFERHUB_SPARK_MASTER", "local[*]")
        builder = (
            SparkSession.builder.master(master)
            .appName("saferhub-matac-scoring")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", _setting("SAFERHUB_SPARK_SHUFFLE_PARTITIONS", "8"))
            .config("spark.sql.session.timeZone", "UTC")
        )
        if master.startswith("local"):
            # A local session listens on the loopback interface only.
            builder = builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        memory = _setting("SAFERHUB_SPARK_DRIVER_MEMORY")
        if memory:
            builder = builder.config("spark.driver.memory", memory)
        local_dir = _setting("SAFERHUB_SPARK_LOCAL_DIR")
        if local_dir:
            builder = builder.config("spark.local.dir", local_dir)
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        return session


def spark_session_stop() -> None:
    """Stop the process's Spark session, if one is running (its JVM goes with it)."""
    from pyspark.sql import SparkSession

    with _lock:
        active = SparkSession.getActiveSession()
        if active is not None:
            active.stop()


def _bands(column, bands, comparison: str, otherwise: int):
    from pyspark.sql import functions as F

    tests = {"<=": lambda limit: column <= limit, ">=": lambda limit: column >= limit, ">": lambda limit: column > limit}
    expression = None
    for limit, points in bands:
        condition = tests[comparison](F.lit(int(limit)))
        expression = F.when(condition, F.lit(int(points))) if expression is None else expression.when(condition, F.lit(int(points)))
    return expression.otherwise(F.lit(int(otherwise)))


def _paths(source) -> list[str]:
    if isinstance(source, (str, os.PathLike)):
        source = [source]
    paths = [os.fspath(path) for path in source]
    if not paths:
        raise ValueError("The Spark engine needs at least one Parquet file.")
    missing = [path for path in paths if not os.path.exists(path)]
    if missing:
        raise FileNotFoundError(f"Parquet input not found: {', '.join(missing)}")
    return paths


def ranked_frame(spark, *, scheme: Scheme, reference_date: dt.date, paths: list[str]):
    """The ranked list as a Spark DataFrame (not collected), columns in ScoreRow order."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    scheme.validate()
    start = reference_date - dt.timedelta(days=scheme.window_days - 1)
    reference = F.lit(reference_date)
    rows = (
        spark.read.parquet(*paths)
        .select("incident_id", "incident_date", "perpetrator_id", "perpetrator_dob", "victim_id", "offence_category")
        .where(F.col("incident_date").between(F.lit(start), reference))
    )
    weights = F.create_map(*chain.from_iterable(
        (F.lit(category), F.lit(int(weight))) for category, weight in scheme.gravity_weights.items()
    ))
    # An incident with two victims is two rows but one incident: its highest weight counts once.
    per_incident = rows.groupBy("perpetrator_id", "incident_id").agg(
        F.max(weights[F.col("offence_category")]).alias("weight"))
    per_perpetrator = per_incident.groupBy("perpetrator_id").agg(
        F.count(F.lit(1)).alias("incident_count"), F.sum("weight").alias("gravity_sum"))
    facts = rows.groupBy("perpetrator_id").agg(
        F.countDistinct("victim_id").alias("distinct_victims"),
        F.max("incident_date").alias("last_incident_date"),
        F.max("perpetrator_dob").alias("dob"),
    )
    last, dob = F.col("last_incident_date"), F.col("dob")
    # Whole years; a 29 February birthday is reached on 1 March in other years.
    age = (F.year(last) - F.year(dob)) - F.when(
        F.month(last) * 100 + F.dayofmonth(last) < F.month(dob) * 100 + F.dayofmonth(dob), 1).otherwise(0)
    measured = per_perpetrator.join(facts, "perpetrator_id").select(
        "perpetrator_id", "incident_count", "distinct_victims", "gravity_sum", "last_incident_date",
        age.alias("age_at_last_incident"), F.datediff(reference, last).alias("days_since_last"),
    )
    eligible = measured.where(
        (F.col("incident_count") >= int(scheme.min_incidents))
        & (F.col("distinct_victims") >= int(scheme.min_victims))
        & (F.col("age_at_last_incident") >= int(scheme.min_age))
    )
    w = scheme.weights
    pointed = eligible.select(
        "*",
        _bands(F.col("days_since_last"), scheme.recency_bands, "<=", scheme.recency_else).alias("r"),
        _bands(F.col("incident_count"), scheme.frequency_bands, ">=", scheme.frequency_else).alias("f"),
        _bands(F.col("gravity_sum"), scheme.gravity_bands, ">", scheme.gravity_else).alias("g"),
        F.least(F.col("distinct_victims"), F.lit(int(scheme.victims_cap))).alias("v"),
    )
    scored = pointed.withColumn(
        "score",
        F.lit(int(w["R"])) * F.col("r") + F.lit(int(w["F"])) * F.col("f")
        + F.lit(int(w["G"])) * F.col("g") + F.lit(int(w["V"])) * F.col("v"),
    )
    order = Window.orderBy(F.col("score").desc(), F.col("gravity_sum").desc(),
                           F.col("last_incident_date").desc(), F.col("perpetrator_id").asc())
    return scored.select(
        F.row_number().over(order).alias("rank"), "perpetrator_id", "r", "f", "g", "v", "score", "incident_count",
        "distinct_victims", "gravity_sum", "last_incident_date", "age_at_last_incident",
    )


def score_spark(
    *,
    scheme: Scheme,
    reference_date: dt.date,
    source,
    perpetrator_ids: Iterable[str] | None = None,
    top: int | None = None,
) -> list[ScoreRow]:
    """The ranked list of eligible perpetrators in the Parquet files `source` (normalised schema,
    validated rows; see engines.to_parquet_files), computed on the Spark session."""
    from pyspark.sql import functions as F

    spark = spark_session()
    ranked = ranked_frame(spark, scheme=scheme, reference_date=reference_date, paths=_paths(source))
    if perpetrator_ids is not None:
        ids = spark.createDataFrame([(str(i),) for i in perpetrator_ids], "perpetrator_id string")
        ranked = ranked.join(ids, "perpetrator_id", "left_semi")
    if top is not None:
        ranked = ranked.where(F.col("rank") <= int(top))
    return [
        ScoreRow(
            rank=int(row["rank"]), perpetrator_id=row["perpetrator_id"], r=int(row["r"]), f=int(row["f"]),
            g=int(row["g"]), v=int(row["v"]), score=int(row["score"]), incident_count=int(row["incident_count"]),
            distinct_victims=int(row["distinct_victims"]), gravity_sum=int(row["gravity_sum"]),
            last_incident_date=row["last_incident_date"], age_at_last_incident=int(row["age_at_last_incident"]),
        )
        for row in ranked.orderBy("rank").collect()
    ]
