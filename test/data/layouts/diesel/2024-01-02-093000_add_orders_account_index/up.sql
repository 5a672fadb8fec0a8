-- Your SQL goes here
CREATE INDEX CONCURRENTLY orders_account_id_placed_at_idx ON orders (account_id, placed_at DESC);
