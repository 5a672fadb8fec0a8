-- Addresses typed on the old signup form kept their case and stray spaces.
UPDATE users
SET email = lower(btrim(email))
WHERE email <> lower(btrim(email));
