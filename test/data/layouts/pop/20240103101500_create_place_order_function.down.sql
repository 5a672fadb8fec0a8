DROP FUNCTION place_order(bigint, bigint);
