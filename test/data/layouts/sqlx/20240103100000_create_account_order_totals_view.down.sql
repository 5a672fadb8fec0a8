-- Add down migration script here
DROP VIEW account_order_totals;
