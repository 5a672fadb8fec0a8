-- This file should undo anything in `up.sql`
DROP VIEW account_order_totals;
