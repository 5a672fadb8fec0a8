CREATE OR REPLACE VIEW account_order_totals AS
SELECT a.id                            AS account_id,
       a.name                          AS account_name,
       count(o.id)                     AS order_count,
       coalesce(sum(o.total_cents), 0) AS total_cents
FROM accounts a
LEFT JOIN orders o ON o.account_id = a.id AND o.status <> 'cancelled'
GROUP BY a.id, a.name;
