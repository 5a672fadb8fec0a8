-- Add down migration script here
DROP TABLE accounts;
DROP TYPE account_status;
