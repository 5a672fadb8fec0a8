-- Add migration script here
CREATE FUNCTION place_order(p_account_id bigint, p_total_cents bigint)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    v_status   account_status;
    v_order_id bigint;
BEGIN
    SELECT status INTO v_status FROM accounts WHERE id = p_account_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account % does not exist', p_account_id;
    END IF;
    IF v_status <> 'active' THEN
        -- a ';' or a quote in a string or comment must not end the statement
        RAISE EXCEPTION 'account % is %; orders need an ''active'' account', p_account_id, v_status;
    END IF;
    INSERT INTO orders (account_id, total_cents)
    VALUES (p_account_id, p_total_cents)
    RETURNING id INTO v_order_id;
    UPDATE accounts SET balance_cents = balance_cents - p_total_cents WHERE id = p_account_id;
    RETURN v_order_id;
END;
$$;
