-- The issued-invoice line guard keeps its established name for its INSERT part (the doctor and operators
-- look for `invoice_line_items_protect_issued`); the UPDATE and DELETE parts keep their own names.
alter trigger invoice_line_items_protect_issued_insert on public.invoice_line_items
  rename to invoice_line_items_protect_issued;
