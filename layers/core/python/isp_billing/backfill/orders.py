"""The order backfill job: link the website's consumer_orders to customers and services.

Orders are taken in batches (id order). For each batch, in one transaction: classify every order (status,
contact, package, price) → decide, in a few rounds of set-based statements, which customer each order
matches, which need a new customer, which a person must decide (review queue) and which cannot be handled
(validation errors) → write it all. A batch commits on its own, so a run that dies loses at most the batch
in flight; the next run picks up exactly the orders still unlinked. An order with an open review item or an
unresolved validation error waits (counted as skipped) until a person has dealt with it.

A dry run takes the same decisions in one transaction over temp tables only, and writes nothing but its
cron_execution_log row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from isp_billing import db, jobs
from isp_billing.backfill import orders_sql as repo
from isp_billing.backfill.models import BackfillOptions
from isp_billing.clock import sast_today
from isp_billing.jobs import JobOutcome, JobRun
from isp_billing.observability import logger

JOB_NAME = "backfill-orders"
DEFAULT_BATCH_SIZE = 10_000
EXAMPLES_PER_OUTCOME = 5

# Called inside a batch's transaction after its writes (tests use it to kill a run half-way).
BatchHook = Callable[[int], None]


def parse_options(options: dict[str, Any]) -> dict[str, Any]:
    """Validate the job's options: `dry_run` (bool) and `since` (ISO date); anything else is refused."""
    return jobs.parse_options(BackfillOptions, options)


@dataclass
class Summary:
    """Counts per outcome and the first few order references of each, across batches."""

    dry_run: bool
    since: date | None
    batches: int = 0
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    changed_since: datetime | None = None

    def add(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            outcome, code, service, n = row["outcome"], row["code"], row["service"], int(row["n"])
            if outcome == "validation_error":
                keys = [("validation_errors", code)]
            elif outcome == "review":
                keys = [("review_queued", code)]
            else:
                keys = [("linked", outcome), ("services", service)]
            for key in keys:
                self.counts[key] += n
                seen = self.examples.setdefault(key[1], [])
                seen.extend(row["refs"][: EXAMPLES_PER_OUTCOME - len(seen)])

    def group(self, name: str) -> dict[str, int]:
        return dict(sorted((code, n) for (kind, code), n in self.counts.items() if kind == name))

    @property
    def linked(self) -> int:
        return sum(self.group("linked").values())

    @property
    def failed(self) -> int:
        return sum(self.group("validation_errors").values())

    @property
    def queued(self) -> int:
        return sum(self.group("review_queued").values())

    def details(self) -> dict[str, Any]:
        linked = self.group("linked")
        services = self.group("services")
        return {
            "dry_run": self.dry_run,
            "since": self.since.isoformat() if self.since else None,
            "changed_since": self.changed_since.isoformat() if self.changed_since else None,
            "batches": self.batches,
            "orders": self.linked + self.failed + self.queued,
            "linked": self.linked,
            "linked_by": linked,
            "customers_created": linked.get("new_customer", 0),
            "services_created": {key: services[key] for key in ("active", "suspended") if key in services},
            "linked_without_service": {
                key.removeprefix("none_"): services[key]
                for key in ("none_pending", "none_closed")
                if key in services
            },
            "review_queued": self.group("review_queued"),
            "validation_errors": self.group("validation_errors"),
            "skipped": self.skipped,
            "examples": {key: refs for key, refs in sorted(self.examples.items()) if refs},
        }


def _decide_batch(
    conn: db.Connection, *, after: Any, size: int, since: date | None, changed_since: datetime | None = None
) -> int:
    """Load the next batch into bf_batch and decide every order in it; returns the batch's size."""
    loaded = repo.load_batch(conn, after=after, limit=size, since=since, changed_since=changed_since)
    if not loaded:
        return 0
    round_number = 1
    while repo.decide_round(conn, round_number):
        round_number += 1
    if repo.undecided_count(conn):  # cannot happen: each round decides the first undecided order
        raise RuntimeError("backfill batch left undecided orders")
    return loaded


def _write_batch(conn: db.Connection, today: date) -> None:
    repo.write_customers(conn)
    repo.write_services(conn, today)
    repo.write_order_links(conn)
    repo.write_validation_errors(conn)
    repo.write_review_items(conn)


def run(
    run: JobRun, *, batch_size: int = DEFAULT_BATCH_SIZE, after_batch: BatchHook | None = None
) -> JobOutcome:
    """The backfill-orders job (see the module's docstring)."""
    options = BackfillOptions.of(parse_options(run.options))
    summary = Summary(dry_run=options.dry_run, since=options.since)
    today = sast_today()
    with db.service_session() as conn:
        repo.tune_session(conn)
        # Every 15 minutes on the schedule: only orders created or changed since the last completed run began
        # (the first scheduled run, and every run by hand, looks at all of them).
        changed_since = (
            repo.last_completed_start(conn, JOB_NAME)
            if run.trigger == "schedule" and options.since is None
            else None
        )
        summary.changed_since = changed_since
        summary.skipped = repo.count_held_back(conn, options.since, changed_since)

    after = repo.FIRST_ID
    if options.dry_run:
        # One transaction: planned customers stay in bf_new, so later batches match them as a real run would.
        with db.service_session() as conn:
            repo.tune_session(conn)
            repo.create_work_tables(conn)
            while _decide_batch(
                conn, after=after, size=batch_size, since=options.since, changed_since=changed_since
            ):
                summary.add(repo.summarise_batch(conn, EXAMPLES_PER_OUTCOME))
                summary.batches += 1
                after = repo.last_id(conn) or after
    else:
        while True:
            # Between batches, in a transaction of its own (a run row locked for a whole batch would make
            # a second run's start wait on it): a run that lost its lease stops before its next batch.
            run.renew_lease()
            with db.service_session() as conn:
                repo.tune_session(conn)
                repo.create_work_tables(conn)
                if not _decide_batch(
                    conn, after=after, size=batch_size, since=options.since, changed_since=changed_since
                ):
                    break
                _write_batch(conn, today)
                rows = repo.summarise_batch(conn, EXAMPLES_PER_OUTCOME)
                after = repo.last_id(conn) or after
                if after_batch is not None:
                    after_batch(summary.batches + 1)
            summary.add(rows)  # counted once its batch has committed
            summary.batches += 1
            logger.info(
                "backfill batch committed", extra={"batch": summary.batches, "linked": summary.linked}
            )

    return JobOutcome(
        processed=summary.linked + summary.queued,
        failed=summary.failed,
        skipped=sum(summary.skipped.values()),
        details=summary.details(),
    )
