DROP VIEW account_order_totals;
