-- Add up migration script here
INSERT INTO users (email, name) VALUES
    ('ada@example.com', 'Ada Lovelace'),
    ('grace@example.com', 'Grace Hopper'),
    ('edsger@example.com', 'Edsger Dijkstra');

INSERT INTO accounts (user_id, name)
SELECT id, name || '''s account' FROM users ORDER BY id;

INSERT INTO orders (account_id, total_cents, status)
SELECT a.id, v.total_cents, v.status
FROM (VALUES ('ada@example.com', 1250, 'paid'),
             ('ada@example.com', 4999, 'pending'),
             ('grace@example.com', 800, 'paid')) AS v (email, total_cents, status)
JOIN users u ON u.email = v.email
JOIN accounts a ON a.user_id = u.id;

UPDATE accounts
SET balance_cents = balance_cents - o.spent
FROM (SELECT account_id, sum(total_cents) AS spent FROM orders GROUP BY account_id) AS o
WHERE o.account_id = accounts.id;

UPDATE accounts SET status = 'suspended'
WHERE user_id = (SELECT id FROM users WHERE email = 'edsger@example.com');
