-- The billing run reads when each recent activation was recorded (a backdated activation date reaches
-- periods invoiced before it was recorded): the activate audit rows of a chunk's customers, by customer.
create index if not exists service_action_log_activate_idx
  on public.service_action_log (customer_id, created_at)
  where action = 'activate';
