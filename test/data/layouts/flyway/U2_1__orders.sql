-- The repeatable view and function are built on orders: drop them with it.
DROP VIEW IF EXISTS account_order_totals;
DROP FUNCTION IF EXISTS place_order(bigint, bigint);
DROP TABLE orders;
