-- Invoice delivery (issue 12): the render sweep looks for deliverable invoices with no PDF yet, every 15
-- minutes. Almost every invoice has its PDF within minutes, so a partial index on the few that do not keeps
-- the sweep a lookup of a handful of rows instead of a scan of years of invoices.
create index customer_invoices_pdf_missing_idx on public.customer_invoices (created_at)
  where pdf_url is null and status not in ('draft', 'void');
