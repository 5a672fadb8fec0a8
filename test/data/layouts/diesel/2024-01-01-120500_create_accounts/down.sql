-- This file should undo anything in `up.sql`
DROP TABLE accounts;
DROP TYPE account_status;
