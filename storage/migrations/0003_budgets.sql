-- giftbot schema v3: spending limits, members' own preferences, and spend counters.
-- Backfill: storage/backfills.py fills spend_counters from gift_events, in this transaction.

-- A member's budget in force (limit_coins NULL: none) and a loosening change waiting out its
-- cooling-off (pending_from NULL: none).
CREATE TABLE budgets (
    guild_id       INTEGER NOT NULL,
    user_id        INTEGER NOT NULL,
    limit_coins    INTEGER CHECK (limit_coins IS NULL OR limit_coins > 0),
    period         TEXT CHECK (period IS NULL OR period IN ('day', 'week', 'month')),
    mode           TEXT CHECK (mode IS NULL OR mode IN ('hard', 'soft')),
    pending_limit  INTEGER,
    pending_period TEXT,
    pending_mode   TEXT,
    pending_clear  INTEGER NOT NULL DEFAULT 0 CHECK (pending_clear IN (0, 1)),
    pending_from   INTEGER,
    thresholds     TEXT NOT NULL DEFAULT '50,80,100',
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

-- Choices a member makes for themselves in one server.
CREATE TABLE member_prefs (
    guild_id          INTEGER NOT NULL,
    user_id           INTEGER NOT NULL,
    timezone          TEXT,
    weekly_digest     INTEGER NOT NULL DEFAULT 0 CHECK (weekly_digest IN (0, 1)),
    low_balance_below INTEGER CHECK (low_balance_below IS NULL OR low_balance_below > 0),
    age_confirmed_at  INTEGER,
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

-- Coins a member spent on gifts per day/week/month, bucketed in their timezone (else the
-- guild's): derived from the ledger, updated in the same transaction as each gift.
CREATE TABLE spend_counters (
    guild_id     INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    period       TEXT    NOT NULL CHECK (period IN ('day', 'week', 'month')),
    period_start INTEGER NOT NULL,
    spent        INTEGER NOT NULL CHECK (spent >= 0),
    PRIMARY KEY (guild_id, user_id, period, period_start)
);

-- Own-rank queries subtract the few members who opted out of public boards; find them fast.
CREATE INDEX member_names_hidden ON member_names (guild_id, user_id) WHERE hidden = 1;
