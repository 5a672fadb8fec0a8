-- This file should undo anything in `up.sql`
DROP INDEX CONCURRENTLY orders_account_id_placed_at_idx;
