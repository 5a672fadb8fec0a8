-- This file should undo anything in `up.sql`
DROP FUNCTION place_order(bigint, bigint);
