-- no-transaction
DROP INDEX CONCURRENTLY orders_account_id_placed_at_idx;
