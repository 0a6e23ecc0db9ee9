-- giftbot schema v2: leaderboard rollups, the privacy opt-out, thank-you lines, and an outbox
-- for messages that must be sent exactly once (auto-announcements, reminders).
-- Backfill: storage/backfills.py rebuilds the rollups from gift_events in each guild's timezone,
-- in this same transaction.

ALTER TABLE creators ADD COLUMN thanks_template TEXT;

ALTER TABLE member_names ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1));

-- One row per (board, creator scope, period bucket, member): updated with each gift.
-- board: 'gifters' (coins sent), 'creators' (coins received), 'supporters' (coins sent to one
-- creator, creator_id set). period_start is the UTC instant (ms) the guild-local period began;
-- 0 for all time. last_entry_id breaks ties: whoever reached the score first ranks higher.
CREATE TABLE leaderboard_totals (
    guild_id      INTEGER NOT NULL,
    board         TEXT    NOT NULL CHECK (board IN ('gifters', 'creators', 'supporters')),
    creator_id    INTEGER NOT NULL DEFAULT 0,
    period        TEXT    NOT NULL CHECK (period IN ('day', 'week', 'month', 'year', 'all')),
    period_start  INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    score         INTEGER NOT NULL CHECK (score >= 0),
    diamonds      INTEGER NOT NULL DEFAULT 0 CHECK (diamonds >= 0),
    gifts         INTEGER NOT NULL DEFAULT 0,
    last_entry_id INTEGER NOT NULL,
    PRIMARY KEY (guild_id, board, creator_id, period, period_start, user_id)
);
CREATE INDEX leaderboard_totals_rank
    ON leaderboard_totals (guild_id, board, creator_id, period, period_start, score DESC, last_entry_id);

-- Messages owed: written in the same transaction as the decision to send them, marked sent
-- after Discord accepted them. dedupe_key makes the decision itself idempotent.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    dedupe_key  TEXT    NOT NULL UNIQUE,
    channel_id  INTEGER,
    user_id     INTEGER,
    payload     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    sent_at     INTEGER,
    message_id  INTEGER,
    last_error  TEXT
);
CREATE INDEX outbox_pending ON outbox (sent_at, due_at);

CREATE TABLE announcement_schedules (
    guild_id   INTEGER NOT NULL,
    creator_id INTEGER NOT NULL,
    period     TEXT    NOT NULL CHECK (period IN ('day', 'week', 'month', 'year')),
    channel_id INTEGER NOT NULL,
    top        INTEGER NOT NULL DEFAULT 3 CHECK (top BETWEEN 1 AND 10),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (guild_id, creator_id, period)
);
