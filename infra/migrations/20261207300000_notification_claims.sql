-- The outbox counts an attempt only when the e-mail transport was called. A claim by a sender is counted
-- apart (`claims`): a row whose sender stopped before recording an outcome goes back to the queue without
-- burning an attempt, and `claims - attempts` (claims that ended without a transport call recorded) has
-- its own bound against a message that stops its sender every time.
alter table public.notifications
  add column claims int not null default 0 check (claims >= 0);

-- Rows claimed before this column existed counted each claim as an attempt.
update public.notifications set claims = attempts where claims < attempts;
