CREATE TYPE account_status AS ENUM ('active', 'suspended', 'closed');

CREATE TABLE accounts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint         NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text           NOT NULL,
    status        account_status NOT NULL DEFAULT 'active',
    balance_cents bigint         NOT NULL DEFAULT 0,
    created_at    timestamptz    NOT NULL DEFAULT now()
);

CREATE INDEX accounts_user_id_idx ON accounts (user_id);
