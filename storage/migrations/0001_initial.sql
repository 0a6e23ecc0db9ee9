-- giftbot schema v1: guilds, accounts, the double-entry ledger, the catalogue and creators.
-- Amounts are integers; times are integer Unix milliseconds passed in by the application.

CREATE TABLE guilds (
    guild_id            INTEGER PRIMARY KEY,
    created_at          INTEGER NOT NULL,
    catalogue_seeded_at INTEGER
);

CREATE TABLE guild_settings (
    guild_id INTEGER NOT NULL REFERENCES guilds (guild_id),
    key      TEXT    NOT NULL,
    value    TEXT    NOT NULL,
    PRIMARY KEY (guild_id, key)
);

CREATE TABLE guild_setting_changes (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL REFERENCES guilds (guild_id),
    key        TEXT    NOT NULL,
    old_value  TEXT,
    new_value  TEXT,
    actor_id   INTEGER NOT NULL,
    changed_at INTEGER NOT NULL
);

-- One account per (guild, owner, code). Members own accounts with owner_id = their user id;
-- system accounts (promo issuer, gift sink, platform fee, diamond issuer) use owner_id = 0.
-- As in TigerBeetle, an account holds one currency and may carry a balance constraint.
CREATE TABLE accounts (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL REFERENCES guilds (guild_id),
    owner_id     INTEGER NOT NULL,
    code         TEXT    NOT NULL,
    currency     TEXT    NOT NULL CHECK (currency IN ('coin', 'diamond')),
    non_negative INTEGER NOT NULL CHECK (non_negative IN (0, 1)),
    balance      INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    UNIQUE (guild_id, owner_id, code),
    CHECK (non_negative = 0 OR balance >= 0)
);

-- A ledger entry is one operation (a grant, a revoke, a gift) under one idempotency key.
CREATE TABLE entries (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL REFERENCES guilds (guild_id),
    idempotency_key TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL,
    actor_id        INTEGER NOT NULL,
    reason          TEXT,
    created_at      INTEGER NOT NULL
);

-- A transfer is one leg of an entry: amount moves from the debit to the credit account.
CREATE TABLE transfers (
    id                INTEGER PRIMARY KEY,
    entry_id          INTEGER NOT NULL REFERENCES entries (id),
    idempotency_key   TEXT    NOT NULL UNIQUE,
    guild_id          INTEGER NOT NULL,
    currency          TEXT    NOT NULL CHECK (currency IN ('coin', 'diamond')),
    debit_account_id  INTEGER NOT NULL REFERENCES accounts (id),
    credit_account_id INTEGER NOT NULL REFERENCES accounts (id),
    amount            INTEGER NOT NULL CHECK (amount > 0),
    created_at        INTEGER NOT NULL,
    CHECK (debit_account_id <> credit_account_id)
);
CREATE INDEX transfers_by_entry ON transfers (entry_id);
CREATE INDEX transfers_by_debit ON transfers (debit_account_id, entry_id);
CREATE INDEX transfers_by_credit ON transfers (credit_account_id, entry_id);

CREATE TRIGGER entries_append_only_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER entries_append_only_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER transfers_append_only_update BEFORE UPDATE ON transfers
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER transfers_append_only_delete BEFORE DELETE ON transfers
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

CREATE TABLE catalogue (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL REFERENCES guilds (guild_id),
    name       TEXT    NOT NULL,
    name_key   TEXT    NOT NULL,
    emoji      TEXT    NOT NULL,
    price      INTEGER NOT NULL CHECK (price > 0),
    enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    comboable  INTEGER NOT NULL DEFAULT 0 CHECK (comboable IN (0, 1)),
    tiktok_id  INTEGER,
    updated_at INTEGER NOT NULL,
    UNIQUE (guild_id, name_key)
);

CREATE TABLE creators (
    guild_id INTEGER NOT NULL REFERENCES guilds (guild_id),
    user_id  INTEGER NOT NULL,
    added_by INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

-- Display names as last seen at gift time, so departed members still show by name.
CREATE TABLE member_names (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

-- The gift behind a gift entry: what was sent, by whom, to whom.
CREATE TABLE gift_events (
    entry_id     INTEGER PRIMARY KEY REFERENCES entries (id),
    guild_id     INTEGER NOT NULL,
    sender_id    INTEGER NOT NULL,
    creator_id   INTEGER NOT NULL,
    gift_id      INTEGER NOT NULL REFERENCES catalogue (id),
    gift_name    TEXT    NOT NULL,
    gift_emoji   TEXT    NOT NULL,
    unit_price   INTEGER NOT NULL,
    count        INTEGER NOT NULL CHECK (count > 0),
    coins        INTEGER NOT NULL CHECK (coins > 0),
    diamonds     INTEGER NOT NULL CHECK (diamonds >= 0),
    channel_id   INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE INDEX gift_events_by_time ON gift_events (guild_id, created_at);
CREATE INDEX gift_events_by_sender ON gift_events (guild_id, sender_id, created_at);
CREATE INDEX gift_events_by_creator ON gift_events (guild_id, creator_id, created_at);
