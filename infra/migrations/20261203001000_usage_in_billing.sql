-- Usage in billing (issue 13, last part): out-of-bundle usage on the invoice.
--
-- 1. service_packages.out_of_bundle_price_per_gb: VAT-inclusive like every price; null = no out-of-bundle
--    charge (a capped package without it is throttled or simply capped, never billed per GB).
-- 2. invoice_line_items.kind gains 'overage' (the first charge for a period's usage above the cap, and any
--    later settlement of a usage correction for that period: positive or a credit).
-- 3. customer_invoices.usage_totals: the previous period's usage per service as the invoice showed it
--    (an object keyed by service id). It is part of the issued document, so the immutability trigger now
--    lists it, and it is read through the invoice's own RLS policy and column grant (no second table with
--    a visibility rule of its own to keep equal to the invoice's). It is also the record that a period was
--    assessed for out-of-bundle usage, with the cap and price used then: a later correction of that
--    period's usage is settled against it (services/billing_overage.py).

alter table public.service_packages
  add column out_of_bundle_price_per_gb numeric(12,2)
    constraint service_packages_out_of_bundle_price_check check (out_of_bundle_price_per_gb >= 0);

alter table public.invoice_line_items drop constraint invoice_line_items_kind_check;
alter table public.invoice_line_items add constraint invoice_line_items_kind_check check (kind in
  ('recurring', 'pro_rata', 'installation', 'equipment', 'adjustment', 'once_off', 'credit', 'overage'));

alter table public.customer_invoices
  add column usage_totals jsonb
    constraint customer_invoices_usage_totals_object check (usage_totals is null
                                                            or jsonb_typeof(usage_totals) = 'object');

-- Customer-facing: a customer's JWT may read them, like the package's price and the invoice's figures.
grant select (out_of_bundle_price_per_gb) on public.service_packages to authenticated;
grant select (usage_totals) on public.customer_invoices to authenticated;

create or replace function public.protect_issued_invoice() returns trigger
language plpgsql
as $$
begin
  if tg_op = 'DELETE' then
    if old.status <> 'draft' then
      raise exception 'invoice % is % and cannot be deleted', old.invoice_number, old.status
        using errcode = '55000', hint = 'Correct it with a credit note.';
    end if;
    return old;
  end if;

  if old.status <> 'draft' then
    if new.status = 'draft' then
      raise exception 'invoice % is % and cannot return to draft', old.invoice_number, old.status
        using errcode = '55000';
    end if;
    if (new.invoice_number, new.invoice_date, new.due_date, new.period_start, new.period_end,
        new.subtotal, new.vat_rate, new.vat_amount, new.total_amount, new.customer_id, new.kind,
        new.credit_note_for, new.usage_totals)
       is distinct from
       (old.invoice_number, old.invoice_date, old.due_date, old.period_start, old.period_end,
        old.subtotal, old.vat_rate, old.vat_amount, old.total_amount, old.customer_id, old.kind,
        old.credit_note_for, old.usage_totals) then
      raise exception 'invoice % is % : its number, dates and amounts cannot change',
        old.invoice_number, old.status
        using errcode = '55000', hint = 'Correct it with a credit note.';
    end if;
  end if;
  return new;
end
$$;
