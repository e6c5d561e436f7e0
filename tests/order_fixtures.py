"""A realistic legacy data set for the order backfill: orders of every kind, each with its expected outcome.

`generate(total, seed)` builds existing customers, packages and `total` consumer orders: clean new
customers, the same person ordering again (email in another case, with spaces), phone numbers in every
South African format, orders of existing customers (by auth user, email, phone), orphans, ambiguous
matches and garbage fields. Every order carries the outcome the backfill must reach, so a test can assert
exact counts. Orders of one person are kept in id order (first order first) but people are interleaved.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import psycopg

from tests.factories import ensure_auth_users

PACKAGES = [
    # id, name, type, price, active
    ("10000000-0000-4000-8000-00000000a001", "Fibre 25/25", "fibre", "499.00", True),
    ("10000000-0000-4000-8000-00000000a002", "Fibre 50/50", "fibre", "699.00", True),
    ("10000000-0000-4000-8000-00000000a003", "Fibre 100/100", "fibre", "899.00", True),
    ("10000000-0000-4000-8000-00000000a004", "LTE 100GB", "lte", "399.00", True),
    ("10000000-0000-4000-8000-00000000a005", "Wireless 10", "wireless", "349.00", True),
    ("10000000-0000-4000-8000-00000000a006", "Wireless 10", "wireless", "379.00", True),  # same name
    ("10000000-0000-4000-8000-00000000a007", "Fibre 10/10 (old)", "fibre", "299.00", False),
]
GOOD_PACKAGE_NAMES = ["Fibre 25/25", "fibre 50/50", " Fibre 100/100 ", "LTE 100GB", "Fibre 10/10 (old)"]

SERVICE_ACTIVE = ["active", "installed", "installation_completed", "Active"]
SERVICE_SUSPENDED = ["suspended"]
LINK_ONLY = [
    "pending",
    "installation_scheduled",
    "installation_in_progress",
    "payment_pending",
    "kyc_pending",
    "credit_check_pending",
    "on_hold",
]
LINK_CLOSED = ["cancelled", "failed", "kyc_rejected", "credit_check_rejected"]
STATUS_WEIGHTS = [(SERVICE_ACTIVE, 55), (SERVICE_SUSPENDED, 5), (LINK_ONLY, 25), (LINK_CLOSED, 15)]


def service_of(status: str) -> str:
    """What a linked order of this status gets: 'active', 'suspended', 'none_pending' or 'none_closed'."""
    if status in SERVICE_ACTIVE:
        return "active"
    if status in SERVICE_SUSPENDED:
        return "suspended"
    return "none_pending" if status in LINK_ONLY else "none_closed"


def phone_formats(national: str) -> list[str]:
    """One number (9 national digits, e.g. 821234567) the ways people write it."""
    a, b, c = national[:2], national[2:5], national[5:]
    return [
        f"0{national}",
        f"0{a} {b} {c}",
        f"+27{national}",
        f"+27 {a} {b} {c}",
        f"+27 (0){a} {b}-{c}",
        f"27{national}",
        f"0027{national}",
        f"({0}{a}) {b} {c}",
    ]


@dataclass
class Dataset:
    customers: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)  # in id order, each with "expect"

    def expected(self) -> dict[str, Any]:
        outcomes = Counter(order["expect"][0] for order in self.orders)
        linked_by = Counter(order["expect"][1] for order in self.orders if order["expect"][0] == "linked")
        services = Counter(order["expect"][2] for order in self.orders if order["expect"][0] == "linked")
        return {
            "orders": len(self.orders),
            "linked": outcomes["linked"],
            "linked_by": dict(sorted(linked_by.items())),
            "customers_created": linked_by["new_customer"],
            "services_created": {k: services[k] for k in ("active", "suspended") if services[k]},
            "linked_without_service": {
                k.removeprefix("none_"): services[k] for k in ("none_pending", "none_closed") if services[k]
            },
            "review_queued": dict(
                sorted(Counter(o["expect"][1] for o in self.orders if o["expect"][0] == "review").items())
            ),
            "validation_errors": dict(
                sorted(Counter(o["expect"][1] for o in self.orders if o["expect"][0] == "error").items())
            ),
        }


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.counter = 0
        self.people: list[list[dict[str, Any]]] = []
        self.data = Dataset()

    # --- values ---------------------------------------------------------------------------------------

    def next_number(self) -> int:
        self.counter += 1
        return self.counter

    def national(self) -> str:
        return f"{self.rng.choice('678')}{self.rng.choice('1234')}{self.next_number():07d}"

    def email(self) -> str:
        return f"person{self.next_number()}@example.co.za"

    def email_variant(self, email: str) -> str:
        return self.rng.choice([email, email.upper(), f"  {email.title()} ", f"{email} "])

    def phone_variant(self, national: str) -> str:
        return self.rng.choice(phone_formats(national))

    def status(self) -> str:
        statuses = self.rng.choices([group for group, _ in STATUS_WEIGHTS], [w for _, w in STATUS_WEIGHTS])[0]
        return self.rng.choice(statuses)

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128)))

    def order(self, expect: tuple[str, str, str | None] | None = None, **fields: Any) -> dict[str, Any]:
        status = fields.pop("status", None) or self.status()
        values: dict[str, Any] = {
            "order_number": f"ORD-{self.next_number():07d}",
            "first_name": self.rng.choice(["Thandi", "Pieter", "Ayesha", "Sipho", "Lerato", "Johan"]),
            "last_name": self.rng.choice(["Mokoena", "van Wyk", "Patel", "Dlamini", "Naidoo", "Botha"]),
            "email": None,
            "phone": None,
            "package_name": self.rng.choice(GOOD_PACKAGE_NAMES),
            "package_price": self.rng.choice(["499.00", "699.00", "899.00", "399.00", "650.50"]),
            "status": status,
            "activation_date": self.rng.choice([None, "2025-06-01", "2026-02-10"]),
            "auth_user_id": None,
            "installation_address": '{"street": "1 Main Road", "city": "Cape Town", "postal_code": "8001"}',
        }
        values.update(fields)
        if expect is None:
            expect = ("linked", "new_customer", service_of(status))
        elif expect[0] == "linked" and expect[2] is None:
            expect = (expect[0], expect[1], service_of(status))
        values["expect"] = expect
        return values

    def person(self, *orders: dict[str, Any]) -> None:
        self.people.append(list(orders))

    def customer(self, *, auth: bool = False, national: str | None = None) -> dict[str, Any]:
        customer = {
            "id": self.uid(),
            "auth_user_id": self.uid() if auth else None,
            "first_name": "Existing",
            "last_name": f"Customer {self.next_number()}",
            "email": self.email(),
            "phone": f"+27{national or self.national()}",
        }
        self.data.customers.append(customer)
        return customer

    # --- the mix ----------------------------------------------------------------------------------------

    def build(self, total: int) -> Dataset:
        scale = total / 10_000

        def n(count: int) -> int:
            return max(1, round(count * scale))

        self.existing_customer_orders(n(100))
        self.duplicate_emails(n(500), n(200))
        self.phone_variants(n(400))
        self.orphans(n(150), n(50))
        self.ambiguous(n(60), n(40))
        self.garbage(n)
        clean = total - sum(len(person) for person in self.people)
        for _ in range(clean):
            national = self.national()
            self.person(
                self.order(
                    email=self.email_variant(self.email()),
                    phone=self.phone_variant(national),
                    auth_user_id=self.uid() if self.rng.random() < 0.3 else None,
                )
            )
        return self.finish()

    def existing_customer_orders(self, each: int) -> None:
        for _ in range(each):
            by_auth = self.customer(auth=True)
            self.person(
                self.order(
                    ("linked", "matched_by_auth_user_id", None),
                    auth_user_id=by_auth["auth_user_id"],
                    email=self.email_variant(self.email()),  # a new address: the auth user still decides
                    phone=self.phone_variant(self.national()),
                )
            )
            by_email = self.customer(auth=self.rng.random() < 0.5)
            self.person(
                self.order(
                    ("linked", "matched_by_email", None),
                    email=self.email_variant(by_email["email"]),
                    phone=self.phone_variant(by_email["phone"][3:]),
                )
            )
            by_phone = self.customer()
            self.person(
                self.order(
                    ("linked", "matched_by_phone", None), phone=self.phone_variant(by_phone["phone"][3:])
                )
            )

    def duplicate_emails(self, pairs: int, triples: int) -> None:
        for size, count in ((2, pairs), (3, triples)):
            for _ in range(count):
                email, national = self.email(), self.national()
                auth = self.uid() if self.rng.random() < 0.3 else None
                first = self.order(
                    email=self.email_variant(email), phone=self.phone_variant(national), auth_user_id=auth
                )
                again = [
                    self.order(
                        ("linked", "matched_by_auth_user_id" if auth else "matched_by_email", None),
                        email=self.email_variant(email),
                        phone=self.phone_variant(national),
                        auth_user_id=auth,
                    )
                    for _ in range(size - 1)
                ]
                self.person(first, *again)

    def phone_variants(self, count: int) -> None:
        for _ in range(count):
            email, national = self.email(), self.national()
            self.person(
                self.order(email=self.email_variant(email), phone=self.phone_variant(national)),
                self.order(("linked", "matched_by_phone", None), phone=self.phone_variant(national)),
            )

    def orphans(self, no_contact: int, orphaned: int) -> None:
        for _ in range(no_contact):
            self.person(
                self.order(("error", "missing_contact", None), email=self.rng.choice([None, "", "   "]))
            )
        for _ in range(orphaned):
            self.person(self.order(("error", "orphaned_order", None), auth_user_id=self.uid()))

    def ambiguous(self, conflicts: int, shared: int) -> None:
        for _ in range(conflicts):
            by_email, by_phone = self.customer(), self.customer()
            self.person(
                self.order(
                    ("review", "email_phone_conflict", None),
                    email=self.email_variant(by_email["email"]),
                    phone=self.phone_variant(by_phone["phone"][3:]),
                )
            )
        for _ in range(shared):
            national = self.national()
            self.customer(national=national)
            self.customer(national=national)
            self.person(
                self.order(
                    ("review", "shared_phone", None),
                    email=self.email_variant(self.email()),
                    phone=self.phone_variant(national),
                )
            )

    def garbage(self, n: Any) -> None:
        def clean(**fields: Any) -> dict[str, Any]:
            base = {"email": self.email(), "phone": self.phone_variant(self.national())}
            base.update(fields)
            return base

        service = lambda: self.rng.choice(SERVICE_ACTIVE + SERVICE_SUSPENDED)  # noqa: E731
        bad_email = ["not-an-email", "someone@", "a@b", "x@@example.co.za", "name at example.co.za"]
        bad_phone = ["12345", "phone", "+27 12", "0000000000", "082-123"]
        for _ in range(n(150)):
            self.person(
                self.order(("error", "invalid_email", None), **clean(email=self.rng.choice(bad_email)))
            )
        for _ in range(n(100)):
            self.person(
                self.order(("error", "invalid_phone", None), **clean(phone=self.rng.choice(bad_phone)))
            )
        for _ in range(n(100)):
            odd = self.rng.choice(["shipped", "unknown", "", "   ", "ACTIVE!"])
            self.person(self.order(("error", "unknown_status", None), **clean(), status=odd or " "))
        for _ in range(n(150)):
            name = self.rng.choice(["Fibre 1000/1000", "", None, "Mystery"])
            self.person(
                self.order(("error", "unknown_package", None), **clean(package_name=name), status=service())
            )
        for _ in range(n(50)):
            self.person(
                self.order(
                    ("error", "ambiguous_package", None),
                    **clean(package_name="wireless 10"),
                    status=service(),
                )
            )
        for _ in range(n(150)):
            price = self.rng.choice(["0.00", "-10.00", None])
            self.person(
                self.order(("error", "invalid_price", None), **clean(package_price=price), status=service())
            )
        for _ in range(n(100)):
            blank = self.rng.choice([{"first_name": None}, {"last_name": "  "}, {"first_name": ""}])
            self.person(self.order(("error", "missing_name_for_new_customer", None), **clean(**blank)))
        for _ in range(n(100)):
            self.person(
                self.order(
                    ("error", "missing_email_for_new_customer", None),
                    phone=self.phone_variant(self.national()),
                )
            )
        for _ in range(n(50)):
            owner = self.customer(auth=True)
            self.person(
                self.order(
                    ("error", "inconsistent_auth_user_id", None),
                    email=self.email_variant(owner["email"]),
                    auth_user_id=self.uid(),
                )
            )

    def finish(self) -> Dataset:
        # Interleave people, keep each person's orders in order, then give ids ascending in that order.
        queues = [list(person) for person in self.people]
        self.rng.shuffle(queues)
        ordered: list[dict[str, Any]] = []
        while queues:
            index = self.rng.randrange(len(queues))
            ordered.append(queues[index].pop(0))
            if not queues[index]:
                queues.pop(index)
        ids = sorted(uuid.UUID(int=self.rng.getrandbits(128)) for _ in ordered)
        for order, order_id in zip(ordered, ids, strict=True):
            order["id"] = str(order_id)
        self.data.orders = ordered
        return self.data


def generate(total: int = 10_000, seed: int = 2026) -> Dataset:
    return _Builder(seed).build(total)


ORDER_COLUMNS = [
    "id",
    "order_number",
    "first_name",
    "last_name",
    "email",
    "phone",
    "package_name",
    "package_price",
    "status",
    "activation_date",
    "auth_user_id",
    "installation_address",
]


def load(conn: psycopg.Connection, data: Dataset) -> None:
    """Insert the packages, the existing customers and the orders (COPY: fast)."""
    for pkg_id, name, kind, price, active in PACKAGES:
        conn.execute(
            "insert into service_packages (id, name, service_type, speed_down_mbps, speed_up_mbps,"
            " monthly_price, is_active) values (%s, %s, %s, 10, 10, %s, %s) on conflict (id) do nothing",
            (pkg_id, name, kind, price, active),
        )
    # A Supabase-shaped database: every auth user the data names exists in auth.users, as after sign-up.
    ensure_auth_users(
        conn, [row["auth_user_id"] for row in [*data.customers, *data.orders] if row["auth_user_id"]]
    )
    with conn.cursor() as cursor:
        with cursor.copy(
            "copy customers (id, auth_user_id, first_name, last_name, email, phone) from stdin"
        ) as copy:
            for customer in data.customers:
                copy.write_row(
                    [
                        customer[key]
                        for key in ("id", "auth_user_id", "first_name", "last_name", "email", "phone")
                    ]
                )
        with cursor.copy(f"copy consumer_orders ({', '.join(ORDER_COLUMNS)}) from stdin") as copy:
            for order in data.orders:
                copy.write_row([order[key] for key in ORDER_COLUMNS])
