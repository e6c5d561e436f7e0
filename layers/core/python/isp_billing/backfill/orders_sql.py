"""SQL of the order backfill: set-based over one batch of consumer_orders at a time.

A batch lives in the transaction-local temp table `bf_batch` (one row per order, its normalised contact
fields, its package, and the decision taken for it); customers the batch plans to create live in `bf_new`
until they are written. Deciding only reads real tables, so a dry run takes exactly the real run's
decisions and simply never calls the `write_*` functions.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from isp_billing.db import Connection

SOURCE = "order_backfill"
FIRST_ID = UUID(int=0)

# Outcomes that link the order to a customer (and create its service when its status asks for one).
LINK_OUTCOMES = (
    "matched_by_auth_user_id",
    "matched_by_email",
    "matched_by_phone",
    "new_customer",
    "already_linked",
    "chosen_in_review",
)

ERROR_TEXTS: dict[str, tuple[str, str]] = {
    # code: (message, suggested fix). No personal data: these are shown to admins and kept for years.
    "unknown_status": (
        "The order's status is not one the backfill knows.",
        "Set the order's status to one of the legacy statuses (active, installed, pending, cancelled ...).",
    ),
    "missing_contact": (
        "The order has no email address, no phone number and no auth user, so it cannot be linked.",
        "Add the customer's email address or phone number to the order.",
    ),
    "invalid_email": (
        "The order's email address is not a valid address.",
        "Correct the email address on the order.",
    ),
    "invalid_phone": (
        "The order's phone number is not a valid South African or E.164 number.",
        "Correct the phone number on the order (e.g. 082 123 4567 or +27 82 123 4567).",
    ),
    "unknown_package": (
        "The order's package matches no service package.",
        "Set the order's package name (or service_package_id) to an existing package.",
    ),
    "ambiguous_package": (
        "The order's package name matches more than one service package.",
        "Set the order's service_package_id to the package it was sold from.",
    ),
    "invalid_price": (
        "The order's package price is missing, zero or negative.",
        "Set the order's package price to the monthly price the customer agreed to.",
    ),
    "orphaned_order": (
        "The order's auth user has no customer and the order has no email or phone to create one from.",
        "Add the customer's email address to the order, or link the auth user to a customer.",
    ),
    "inconsistent_auth_user_id": (
        "The order's auth user does not fit: no such auth user exists, or the customer the order matches"
        " belongs to a different auth user.",
        "Check which user placed the order; correct the order's auth_user_id (it must name an existing"
        " auth user) or the customer's.",
    ),
    "missing_email_for_new_customer": (
        "No customer matches the order and a new customer needs an email address, which the order lacks.",
        "Add the customer's email address to the order.",
    ),
    "missing_name_for_new_customer": (
        "No customer matches the order and a new customer needs a first and last name; the order lacks one.",
        "Add the customer's first and last name to the order.",
    ),
}

REVIEW_REASONS = {
    "email_phone_conflict": "The order's email matches one customer and its phone another.",
    "shared_phone": "The order's phone number belongs to more than one customer.",
}


def tune_session(conn: Connection) -> None:
    """Settings for the backfill's transaction. JIT off: the statements run over temp tables the planner has
    no statistics for, so their cost estimates cross jit_above_cost and every batch paid for compiling
    (inlining and optimising) its plans again: more than the batch's work on servers built with JIT."""
    conn.execute("set local jit = off")


def create_work_tables(conn: Connection) -> None:
    """`bf_new`: customers planned but not yet written (dropped at commit)."""
    conn.execute(
        """
        create temp table if not exists bf_new (
          id uuid primary key,
          seq bigint not null,
          order_id uuid not null,
          auth_user_id uuid,
          email_key text not null,
          phone_key text,
          first_name text not null,
          last_name text not null,
          physical_address jsonb
        ) on commit drop
        """
    )
    conn.execute("create index if not exists bf_new_email_idx on bf_new (email_key)")
    conn.execute("create index if not exists bf_new_phone_idx on bf_new (phone_key)")
    conn.execute("create index if not exists bf_new_auth_idx on bf_new (auth_user_id)")


_NEEDS_WORK = """
    (o.customer_id is null
     or (o.service_id is null
         and public.legacy_order_action(o.status) in ('service_active', 'service_suspended')))
"""

# `since`: orders placed on or after a SAST day; `changed_since`: orders created or changed since an instant
# (a scheduled run: since the last finished run began), or whose validation error or review item a person
# dealt with since then (the order itself did not change, but it is ready again).
_SINCE = """
    (%(since)s::date is null
     or o.created_at >= (%(since)s::date)::timestamp at time zone 'Africa/Johannesburg')
    and (%(changed_since)s::timestamptz is null
         or o.created_at >= %(changed_since)s::timestamptz or o.updated_at >= %(changed_since)s::timestamptz
         or exists (select 1 from validation_errors v
                     where v.record_id = o.id and v.source = 'order_backfill'
                       and v.resolved_at >= %(changed_since)s::timestamptz)
         or exists (select 1 from migration_review_queue q
                     where q.consumer_order_id = o.id and q.updated_at >= %(changed_since)s::timestamptz))
"""

_OPEN_REVIEW = """
    exists (select 1 from migration_review_queue q where q.consumer_order_id = o.id and q.status = 'open')
"""

# A dismissed review item: a person decided this order is not to be migrated, so it is never queued again.
_DISMISSED = """
    exists (select 1 from migration_review_queue q
             where q.consumer_order_id = o.id and q.status = 'dismissed')
"""

_UNRESOLVED_ERROR = """
    exists (select 1 from validation_errors v
             where v.record_id = o.id and v.source = 'order_backfill' and v.resolved_at is null)
"""

_HELD_BACK = f"({_OPEN_REVIEW} or {_DISMISSED} or {_UNRESOLVED_ERROR})"


def count_held_back(
    conn: Connection, since: date | None, changed_since: datetime | None = None
) -> dict[str, int]:
    """Orders that still need work but wait for a person (an open review item, an unresolved error) or that
    a person dismissed. Each order is counted once: dismissed first, then open review, then the error."""
    row = conn.execute(
        f"""
        select count(*) filter (where held.dismissed) as dismissed,
               count(*) filter (where not held.dismissed and held.open_review) as open_review,
               count(*) filter (where not held.dismissed and not held.open_review) as unresolved_error
          from consumer_orders o
         cross join lateral (select {_DISMISSED} as dismissed, {_OPEN_REVIEW} as open_review) held
         where {_NEEDS_WORK} and {_SINCE} and {_HELD_BACK}
        """,
        {"since": since, "changed_since": changed_since},
    ).fetchone()
    assert row is not None
    return {
        "open_review": int(row["open_review"]),
        "unresolved_error": int(row["unresolved_error"]),
        "dismissed": int(row["dismissed"]),
    }


def load_batch(
    conn: Connection,
    *,
    after: UUID = FIRST_ID,
    limit: int,
    since: date | None = None,
    order_id: UUID | None = None,
    changed_since: datetime | None = None,
) -> int:
    """Read the next `limit` orders needing work (id order, after `after`) into `bf_batch`, classified.

    Every check that depends on the order alone is made here: its status, its contact fields, its package
    and price. With `order_id`, that one order is read whatever its state (a review being resolved).
    """
    conn.execute("drop table if exists bf_batch")
    if order_id is None:
        picked = f"""
            select o.* from consumer_orders o
             where o.id > %(after)s and {_NEEDS_WORK} and {_SINCE} and not {_HELD_BACK}
             order by o.id
             limit %(limit)s
        """
    else:
        picked = "select o.* from consumer_orders o where o.id = %(order_id)s"
    conn.execute(
        f"""
        create temp table bf_batch on commit drop as
        with packages_by_name as (
          select lower(btrim(name)) as name_key, count(*) as n, count(*) filter (where is_active) as n_active,
                 (array_agg(id order by is_active desc, created_at, id))[1] as first_id
            from service_packages
           group by 1
        ),
        picked as ({picked}),
        -- ids naming no auth.users row (Supabase): a customer cannot be created for them (its foreign key)
        unknown_auth as (
          select u.id from public.unknown_auth_user_ids(
            array(select auth_user_id from picked where customer_id is null and auth_user_id is not null)
          ) as u(id)
        ),
        classified as materialized (
          select o.id, o.order_number, coalesce(o.order_number, o.id::text) as ref,
                 o.customer_id as linked_customer_id, o.auth_user_id,
                 public.legacy_order_action(o.status) as action,
                 nullif(btrim(o.email), '') is not null as has_email,
                 public.normalize_email(o.email) as email_key,
                 nullif(btrim(o.phone), '') is not null as has_phone,
                 public.normalize_za_phone(o.phone) as phone_key,
                 nullif(btrim(o.first_name), '') as first_name,
                 nullif(btrim(o.last_name), '') as last_name,
                 o.installation_address, o.package_price as price, o.activation_date, o.status,
                 o.package_name as order_package_name,
                 coalesce(o.service_package_id,
                          case when pn.n = 1 or pn.n_active = 1 then pn.first_id end) as package_id,
                 coalesce(pn.n, 0) as package_name_matches,
                 ua.id is not null as auth_user_unknown
            from picked o
            left join packages_by_name pn on pn.name_key = lower(btrim(o.package_name))
            left join unknown_auth ua on ua.id = o.auth_user_id
        )
        select row_number() over (order by c.id) as seq, c.*,
               p.name as package_name, p.service_type,
               c.action in ('service_active', 'service_suspended') as needs_service,
               e.error_code,
               case when e.error_code is not null then 'validation_error'
                    when c.linked_customer_id is not null then 'already_linked' end as outcome,
               case when c.linked_customer_id is not null and e.error_code is null
                    then c.linked_customer_id end as target_customer_id,
               null::uuid as target_auth_user_id,
               null::text as review_reason,
               null::jsonb as candidates,
               case when e.error_code is not null or c.linked_customer_id is not null then 0 end as round
          from classified c
          left join service_packages p on p.id = c.package_id
          cross join lateral (
            select case
              when c.action is null then 'unknown_status'
              when c.linked_customer_id is null and not c.has_email and not c.has_phone
                   and c.auth_user_id is null then 'missing_contact'
              when c.linked_customer_id is null and c.has_email and c.email_key is null then 'invalid_email'
              when c.linked_customer_id is null and c.has_phone and c.phone_key is null then 'invalid_phone'
              when c.linked_customer_id is null and c.auth_user_unknown then 'inconsistent_auth_user_id'
              when c.action in ('service_active', 'service_suspended') and c.package_id is null
                   and c.package_name_matches > 1 then 'ambiguous_package'
              when c.action in ('service_active', 'service_suspended') and c.package_id is null
                   then 'unknown_package'
              when c.action in ('service_active', 'service_suspended')
                   and (c.price is null or c.price <= 0) then 'invalid_price'
            end as error_code
          ) e
        """,
        {
            "after": after,
            "limit": limit,
            "since": since,
            "order_id": order_id,
            "changed_since": changed_since,
        },
    )
    row = conn.execute("select count(*) as n, max(id::text) as last_id from bf_batch").fetchone()
    assert row is not None
    return int(row["n"])


def last_id(conn: Connection) -> UUID | None:
    row = conn.execute("select id from bf_batch order by seq desc limit 1").fetchone()
    return UUID(str(row["id"])) if row else None


def decide_round(conn: Connection, round_number: int) -> int:
    """Decide every undecided order no earlier undecided order of the batch shares an identifier with.

    Such an order sees exactly the customers it would see if the orders were handled one by one in id
    order (the only customers that can match it are ones created from orders sharing its email, phone or
    auth user), so the result does not depend on how orders are split into batches. Returns how many
    orders were decided; the caller repeats until none is left.
    """
    cursor = conn.execute(
        """
        with undecided as (
          select b.seq, b.email_key, b.phone_key, b.auth_user_id,
                 case when b.email_key is null then b.seq else min(b.seq) over (partition by b.email_key) end
                   as first_by_email,
                 case when b.phone_key is null then b.seq else min(b.seq) over (partition by b.phone_key) end
                   as first_by_phone,
                 case when b.auth_user_id is null then b.seq
                      else min(b.seq) over (partition by b.auth_user_id) end as first_by_auth
            from bf_batch b
           where b.outcome is null
        ),
        ready as (
          select seq, email_key, phone_key, auth_user_id from undecided
           where first_by_email = seq and first_by_phone = seq and first_by_auth = seq
        ),
        matched as (
          select r.seq, r.auth_user_id,
                 coalesce(ca.id, na.id) as auth_id,
                 coalesce(ce.id, ne.id) as email_id,
                 case when ce.id is not null then ce.auth_user_id else ne.auth_user_id end as email_auth,
                 coalesce(ph.ids, '{}') as phone_ids,
                 coalesce(ph.auths, '{}') as phone_auths
            from ready r
            left join customers ca on ca.auth_user_id = r.auth_user_id
            left join bf_new na on na.auth_user_id = r.auth_user_id
            left join customers ce on lower(ce.email) = r.email_key
            left join bf_new ne on ne.email_key = r.email_key
            left join lateral (
              select array_agg(x.id order by x.id) as ids, array_agg(x.auth_user_id order by x.id) as auths
                from (select c.id, c.auth_user_id from customers c
                       where r.phone_key is not null and public.normalize_za_phone(c.phone) = r.phone_key
                      union all
                      select n.id, n.auth_user_id from bf_new n
                       where r.phone_key is not null and n.phone_key = r.phone_key) x
            ) ph on true
        ),
        decided as (
          select m.*,
                 case
                   when m.auth_id is not null then 'matched_by_auth_user_id'
                   when m.email_id is not null and m.auth_user_id is not null and m.email_auth is not null
                        and m.email_auth <> m.auth_user_id then 'inconsistent_auth_user_id'
                   when m.email_id is not null and cardinality(m.phone_ids) > 0
                        and not m.email_id = any(m.phone_ids) then 'email_phone_conflict'
                   when m.email_id is not null then 'matched_by_email'
                   when cardinality(m.phone_ids) = 1 and m.auth_user_id is not null
                        and m.phone_auths[1] is not null and m.phone_auths[1] <> m.auth_user_id
                        then 'inconsistent_auth_user_id'
                   when cardinality(m.phone_ids) = 1 then 'matched_by_phone'
                   when cardinality(m.phone_ids) > 1 then 'shared_phone'
                   else 'no_match'
                 end as verdict
            from matched m
        )
        update bf_batch b
           set round = %(round)s,
               outcome = case
                 when d.verdict in ('matched_by_auth_user_id', 'matched_by_email', 'matched_by_phone')
                   then d.verdict
                 when d.verdict in ('email_phone_conflict', 'shared_phone') then 'review'
                 when d.verdict = 'inconsistent_auth_user_id' then 'validation_error'
                 when b.email_key is null or b.first_name is null or b.last_name is null
                   then 'validation_error'
                 else 'new_customer'
               end,
               error_code = case
                 when d.verdict = 'inconsistent_auth_user_id' then d.verdict
                 when d.verdict <> 'no_match' then null
                 when b.email_key is null and b.phone_key is null then 'orphaned_order'
                 when b.email_key is null then 'missing_email_for_new_customer'
                 when b.first_name is null or b.last_name is null then 'missing_name_for_new_customer'
               end,
               review_reason = case when d.verdict in ('email_phone_conflict', 'shared_phone')
                                    then d.verdict end,
               candidates = case
                 when d.verdict = 'email_phone_conflict' then
                   (select jsonb_agg(jsonb_build_object('customer_id', c.id,
                                                        'matched_on', case when c.id = d.email_id
                                                                           then 'email' else 'phone' end)
                                     order by c.id <> d.email_id, c.id)
                      from unnest(array_prepend(d.email_id, d.phone_ids)) as c(id))
                 when d.verdict = 'shared_phone' then
                   (select jsonb_agg(jsonb_build_object('customer_id', c.id, 'matched_on', 'phone')
                                     order by c.id)
                      from unnest(d.phone_ids) as c(id))
               end,
               target_customer_id = case
                 when d.verdict = 'matched_by_auth_user_id' then d.auth_id
                 when d.verdict = 'matched_by_email' then d.email_id
                 when d.verdict = 'matched_by_phone' then d.phone_ids[1]
                 when d.verdict = 'no_match' and b.email_key is not null and b.first_name is not null
                      and b.last_name is not null then gen_random_uuid()
               end,
               target_auth_user_id = case
                 when d.verdict = 'matched_by_auth_user_id' then d.auth_user_id
                 when d.verdict = 'matched_by_email' then d.email_auth
                 when d.verdict = 'matched_by_phone' then d.phone_auths[1]
                 when d.verdict = 'no_match' then b.auth_user_id
               end
          from decided d
         where b.seq = d.seq
        """,
        {"round": round_number},
    )
    decided = cursor.rowcount
    if decided:
        # The customers this round decided to create: later rounds (and, in a dry run, later batches) match
        # against them exactly as against written customers.
        conn.execute(
            """
            insert into bf_new (id, seq, order_id, auth_user_id, email_key, phone_key, first_name, last_name,
                                physical_address)
            select target_customer_id, seq, id, auth_user_id, email_key, phone_key, first_name, last_name,
                   installation_address
              from bf_batch
             where round = %(round)s and outcome = 'new_customer'
            """,
            {"round": round_number},
        )
    return decided


def undecided_count(conn: Connection) -> int:
    row = conn.execute("select count(*) as n from bf_batch where outcome is null").fetchone()
    assert row is not None
    return int(row["n"])


def decide_chosen_customer(conn: Connection, customer_id: UUID) -> None:
    """A person chose the customer for the (single) order in bf_batch."""
    conn.execute(
        """
        update bf_batch b
           set outcome = 'chosen_in_review', round = 0, target_customer_id = c.id,
               target_auth_user_id = c.auth_user_id
          from customers c
         where c.id = %s
        """,
        (customer_id,),
    )


def decide_new_customer(conn: Connection) -> UUID:
    """A person chose to create a new customer for the (single) order in bf_batch."""
    row = conn.execute(
        """
        update bf_batch
           set outcome = 'new_customer', round = 0, target_customer_id = gen_random_uuid(),
               target_auth_user_id = auth_user_id
        returning target_customer_id
        """
    ).fetchone()
    assert row is not None
    conn.execute(
        """
        insert into bf_new (id, seq, order_id, auth_user_id, email_key, phone_key, first_name, last_name,
                            physical_address)
        select target_customer_id, seq, id, auth_user_id, email_key, phone_key, first_name, last_name,
               installation_address
          from bf_batch where outcome = 'new_customer'
        """
    )
    return UUID(str(row["target_customer_id"]))


def batch_order(conn: Connection) -> dict[str, Any] | None:
    """The single order of bf_batch (review resolution)."""
    return conn.execute(
        "select id, ref, outcome, error_code, email_key, phone_key, first_name, last_name, auth_user_id,"
        " linked_customer_id from bf_batch"
    ).fetchone()


def summarise_batch(conn: Connection, examples: int) -> list[dict[str, Any]]:
    """Per outcome (and error code / review reason / service kind): the count and the first order refs."""
    return conn.execute(
        """
        select outcome, coalesce(error_code, review_reason) as code,
               case when outcome not in ('validation_error', 'review') then
                 case when needs_service and action = 'service_suspended' then 'suspended'
                      when needs_service then 'active'
                      when action = 'link_closed' then 'none_closed'
                      else 'none_pending' end
               end as service,
               count(*) as n,
               (array_agg(ref order by seq))[1:%(examples)s] as refs
          from bf_batch
         group by 1, 2, 3
        """,
        {"examples": examples},
    ).fetchall()


# --- writes (a real run only) ---------------------------------------------------------------------------


def write_customers(conn: Connection) -> int:
    """Create the planned customers, account numbers reserved as one block of the year's counter.

    The block is taken with the same insert-or-update-returning on the counter row the per-row trigger
    uses, in this transaction, so numbers stay gap-free (a rollback returns them). customer_billing rows
    come from the customers trigger, with their defaults.
    """
    row = conn.execute("select count(*) as n from bf_new").fetchone()
    planned = int(row["n"]) if row else 0
    if not planned:
        return 0
    conn.execute(
        """
        with block as (
          insert into number_counters (kind, year, last_value)
          values ('customer', extract(year from (now() at time zone 'Africa/Johannesburg'))::int, %(n)s)
          on conflict (kind, year) do update set last_value = number_counters.last_value + excluded.last_value
          returning year, last_value - %(n)s as before
        )
        insert into customers (id, auth_user_id, account_number, first_name, last_name, email, phone,
                               customer_type, physical_address)
        select n.id, n.auth_user_id,
               public.format_document_number('CUS', block.year,
                                             (block.before + row_number() over (order by n.seq))::int),
               n.first_name, n.last_name, n.email_key, n.phone_key, 'consumer', n.physical_address
          from bf_new n cross join block
         order by n.seq
        """,
        {"n": planned},
    )
    return planned


def write_services(conn: Connection, today: date) -> None:
    """The services of installed/active/suspended orders (one per order: the partial unique index), and an
    open suspension for each suspended one."""
    conn.execute(
        """
        with created as (
          insert into customer_services (customer_id, package_id, package_name, service_type, status,
                                         monthly_price, activation_date, suspension_date,
                                         installation_address, consumer_order_id)
          select b.target_customer_id, b.package_id, b.package_name, b.service_type,
                 case when b.action = 'service_suspended' then 'suspended' else 'active' end,
                 b.price, coalesce(b.activation_date, %(today)s),
                 case when b.action = 'service_suspended' then %(today)s::date end,
                 b.installation_address, b.id
            from bf_batch b
           where b.needs_service and b.outcome = any(%(link)s)
          on conflict (consumer_order_id) where consumer_order_id is not null do nothing
          returning id, customer_id, status
        )
        insert into service_suspensions (service_id, customer_id, suspension_type, reason, notes)
        select id, customer_id, 'other', 'Suspended in the legacy system',
               'Recorded by the order backfill; the legacy system did not say why.'
          from created
         where status = 'suspended'
        """,
        {"today": today, "link": list(LINK_OUTCOMES)},
    )


def write_order_links(conn: Connection) -> int:
    """Point the orders at their customer and service; an order's own auth_user_id is never overwritten."""
    cursor = conn.execute(
        """
        update consumer_orders o
           set customer_id = b.target_customer_id,
               service_id = coalesce(o.service_id, s.id),
               auth_user_id = coalesce(o.auth_user_id, b.target_auth_user_id)
          from bf_batch b
          left join customer_services s on s.consumer_order_id = b.id
         where o.id = b.id and b.outcome = any(%(link)s)
           and (o.customer_id is null or o.customer_id = b.target_customer_id)
        """,
        {"link": list(LINK_OUTCOMES)},
    )
    return cursor.rowcount


def write_validation_errors(conn: Connection) -> None:
    codes = list(ERROR_TEXTS)
    conn.execute(
        """
        insert into validation_errors (source, record_type, record_id, record_ref, error_code, message,
                                       suggested_fix, payload)
        select 'order_backfill', 'consumer_order', b.id, b.ref, b.error_code, t.message, t.suggested_fix,
               jsonb_strip_nulls(jsonb_build_object(
                 'order_number', b.order_number,
                 'status', case when b.error_code = 'unknown_status' then b.status end,
                 'package_name', case when b.error_code in ('unknown_package', 'ambiguous_package')
                                      then b.order_package_name end,
                 'package_price', case when b.error_code = 'invalid_price' then b.price::text end,
                 'auth_user_missing', case when b.error_code = 'inconsistent_auth_user_id'
                                           and b.auth_user_unknown then true end))
          from bf_batch b
          join unnest(%(codes)s::text[], %(messages)s::text[], %(fixes)s::text[])
               as t(code, message, suggested_fix) on t.code = b.error_code
         where b.outcome = 'validation_error'
        on conflict (source, record_ref, error_code) where resolved_at is null do nothing
        """,
        {
            "codes": codes,
            "messages": [ERROR_TEXTS[code][0] for code in codes],
            "fixes": [ERROR_TEXTS[code][1] for code in codes],
        },
    )


def write_review_items(conn: Connection) -> None:
    conn.execute(
        """
        insert into migration_review_queue (consumer_order_id, reason, candidates)
        select b.id, b.review_reason,
               (select jsonb_agg(c.candidate || jsonb_build_object('account_number', cu.account_number)
                                 order by c.position)
                  from jsonb_array_elements(b.candidates) with ordinality as c(candidate, position)
                  join customers cu on cu.id = (c.candidate ->> 'customer_id')::uuid)
          from bf_batch b
         where b.outcome = 'review'
        on conflict (consumer_order_id) where status = 'open' do nothing
        """
    )


def last_completed_start(conn: Connection, job_name: str) -> datetime | None:
    """When the job's last real run that went through every order began: completed, or partial (it finished,
    with some orders recorded as validation errors); a dry run wrote nothing and does not count. A scheduled
    run looks at what changed since then."""
    row = conn.execute(
        "select max(execution_start) as started from cron_execution_log"
        " where job_name = %s and status in ('completed', 'partial') and parent_id is null"
        " and coalesce(details->>'dry_run', 'false') <> 'true'",
        (job_name,),
    ).fetchone()
    return None if row is None else row["started"]
