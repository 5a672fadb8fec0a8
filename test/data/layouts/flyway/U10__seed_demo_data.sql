DELETE FROM orders
WHERE account_id IN (SELECT a.id FROM accounts a JOIN users u ON u.id = a.user_id
                     WHERE u.email IN ('ada@example.com', 'grace@example.com', 'edsger@example.com'));
DELETE FROM accounts
WHERE user_id IN (SELECT id FROM users WHERE email IN ('ada@example.com', 'grace@example.com', 'edsger@example.com'));
DELETE FROM users WHERE email IN ('ada@example.com', 'grace@example.com', 'edsger@example.com');
