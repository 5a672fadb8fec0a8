-- Add down migration script here
DROP FUNCTION place_order(bigint, bigint);
