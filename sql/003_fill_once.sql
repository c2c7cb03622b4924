-- A paper order fills at most once: a batch retried after a commit whose reply was lost must
-- not store its fills twice.
CREATE UNIQUE INDEX fills_once_idx ON fills (account_id, exchange_order_id);
