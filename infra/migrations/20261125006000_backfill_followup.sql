-- Backfill follow-up: an admin closes a validation error (resolved, with a note) or dismisses a review item
-- (with a note). Neither table had a column for the person's note.

alter table public.validation_errors
  add column resolution_note text
    check (resolution_note is null or (btrim(resolution_note) <> '' and char_length(resolution_note) <= 500));

alter table public.migration_review_queue
  add column decision_note text
    check (decision_note is null or (btrim(decision_note) <> '' and char_length(decision_note) <= 500));

-- A dismissed item means "a person decided not to migrate this order": the backfill asks, for every order
-- it reads, whether one exists.
create index migration_review_queue_dismissed_order_idx on public.migration_review_queue (consumer_order_id)
  where status = 'dismissed';
