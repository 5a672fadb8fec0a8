-- migrate:up
-- Addresses typed on the old signup form kept their case and stray spaces.
UPDATE users
SET email = lower(btrim(email))
WHERE email <> lower(btrim(email));

-- migrate:down
-- Nothing to undo: the up only rewrote addresses that were not lower case,
-- and their old spelling is not kept. The schema is unchanged.
