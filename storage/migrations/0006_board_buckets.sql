-- giftbot schema v6: leaderboards a gift updates with three rows instead of fifteen.
--
-- Schema 2 kept one row per board, member, period and bucket (15 a gift), each with an entry in
-- a rank index: four fifths of a gift's page writes (docs/benchmarks.md). Now:
-- * board_current: one row per board and member holding the buckets the member is in now, all
--   five periods side by side, so a gift writes three rows (its gifter, creator and supporter);
-- * board_closed: a bucket a member has moved on from, written once when their next gift lands
--   in a later bucket (or when a late gift belongs to an earlier one);
-- * board_top: the top 120 of every gifters bucket, the only board too big to sort on read,
--   kept exact on write (scores only grow, so the new top is the old top plus whoever passed its
--   last place).
-- The view leaderboard_totals shows all of it in schema 2's shape, one row per bucket.
--
-- What a member spent in a bucket is their gifters score for it: spend_counters now holds only
-- the spending of members who keep their own timezone (the others' rows go).
--
-- Backfill: storage/backfills.py rebuilds these from gift_events in each guild's timezone, in
-- this same transaction; the old table goes.

DROP INDEX leaderboard_totals_rank;
DROP TABLE leaderboard_totals;

DELETE FROM spend_counters WHERE NOT EXISTS (
    SELECT 1 FROM member_prefs p
    WHERE p.guild_id = spend_counters.guild_id AND p.user_id = spend_counters.user_id
    AND p.timezone IS NOT NULL
);

CREATE TABLE board_current (
    guild_id      INTEGER NOT NULL,
    board         TEXT    NOT NULL CHECK (board IN ('gifters', 'creators', 'supporters')),
    creator_id    INTEGER NOT NULL DEFAULT 0,
    user_id       INTEGER NOT NULL,
    day_start     INTEGER NOT NULL,
    day_score     INTEGER NOT NULL CHECK (day_score >= 0),
    day_diamonds  INTEGER NOT NULL CHECK (day_diamonds >= 0),
    day_gifts     INTEGER NOT NULL,
    day_last      INTEGER NOT NULL,
    week_start    INTEGER NOT NULL,
    week_score    INTEGER NOT NULL CHECK (week_score >= 0),
    week_diamonds INTEGER NOT NULL CHECK (week_diamonds >= 0),
    week_gifts    INTEGER NOT NULL,
    week_last     INTEGER NOT NULL,
    month_start   INTEGER NOT NULL,
    month_score   INTEGER NOT NULL CHECK (month_score >= 0),
    month_diamonds INTEGER NOT NULL CHECK (month_diamonds >= 0),
    month_gifts   INTEGER NOT NULL,
    month_last    INTEGER NOT NULL,
    year_start    INTEGER NOT NULL,
    year_score    INTEGER NOT NULL CHECK (year_score >= 0),
    year_diamonds INTEGER NOT NULL CHECK (year_diamonds >= 0),
    year_gifts    INTEGER NOT NULL,
    year_last     INTEGER NOT NULL,
    all_score     INTEGER NOT NULL CHECK (all_score >= 0),
    all_diamonds  INTEGER NOT NULL CHECK (all_diamonds >= 0),
    all_gifts     INTEGER NOT NULL,
    all_last      INTEGER NOT NULL,
    PRIMARY KEY (guild_id, board, creator_id, user_id)
) WITHOUT ROWID;

-- Each creator's supporters, ranked per period: a big creator's fans are too many to sort when
-- read (a gift moves five entries of its supporter row; gifters use board_top, and creators
-- are few enough to sort).
CREATE INDEX board_current_supporters_day
    ON board_current (guild_id, creator_id, day_start, day_score DESC, day_last) WHERE board = 'supporters';
CREATE INDEX board_current_supporters_week
    ON board_current (guild_id, creator_id, week_start, week_score DESC, week_last) WHERE board = 'supporters';
CREATE INDEX board_current_supporters_month
    ON board_current (guild_id, creator_id, month_start, month_score DESC, month_last)
    WHERE board = 'supporters';
CREATE INDEX board_current_supporters_year
    ON board_current (guild_id, creator_id, year_start, year_score DESC, year_last) WHERE board = 'supporters';
CREATE INDEX board_current_supporters_all
    ON board_current (guild_id, creator_id, all_score DESC, all_last) WHERE board = 'supporters';

CREATE TABLE board_closed (
    guild_id      INTEGER NOT NULL,
    board         TEXT    NOT NULL CHECK (board IN ('gifters', 'creators', 'supporters')),
    creator_id    INTEGER NOT NULL DEFAULT 0,
    period        TEXT    NOT NULL CHECK (period IN ('day', 'week', 'month', 'year')),
    period_start  INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    score         INTEGER NOT NULL CHECK (score >= 0),
    diamonds      INTEGER NOT NULL CHECK (diamonds >= 0),
    gifts         INTEGER NOT NULL,
    last_entry_id INTEGER NOT NULL,
    PRIMARY KEY (guild_id, board, creator_id, period, period_start, user_id)
) WITHOUT ROWID;
-- A member's own closed buckets (their spending chart), without a pass over everyone's.
CREATE INDEX board_closed_by_member
    ON board_closed (guild_id, user_id, board, creator_id, period, period_start);

CREATE TABLE board_top (
    guild_id      INTEGER NOT NULL,
    board         TEXT    NOT NULL CHECK (board IN ('gifters', 'creators', 'supporters')),
    creator_id    INTEGER NOT NULL DEFAULT 0,
    period        TEXT    NOT NULL CHECK (period IN ('day', 'week', 'month', 'year', 'all')),
    period_start  INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    score         INTEGER NOT NULL,
    last_entry_id INTEGER NOT NULL,
    PRIMARY KEY (guild_id, board, creator_id, period, period_start, user_id)
) WITHOUT ROWID;
CREATE INDEX board_top_rank
    ON board_top (guild_id, board, creator_id, period, period_start, score DESC, last_entry_id);

CREATE VIEW leaderboard_totals AS
SELECT guild_id, board, creator_id, 'day' AS period, day_start AS period_start, user_id,
       day_score AS score, day_diamonds AS diamonds, day_gifts AS gifts, day_last AS last_entry_id
  FROM board_current
UNION ALL
SELECT guild_id, board, creator_id, 'week' AS period, week_start AS period_start, user_id,
       week_score AS score, week_diamonds AS diamonds, week_gifts AS gifts, week_last AS last_entry_id
  FROM board_current
UNION ALL
SELECT guild_id, board, creator_id, 'month' AS period, month_start AS period_start, user_id,
       month_score AS score, month_diamonds AS diamonds, month_gifts AS gifts, month_last AS last_entry_id
  FROM board_current
UNION ALL
SELECT guild_id, board, creator_id, 'year' AS period, year_start AS period_start, user_id,
       year_score AS score, year_diamonds AS diamonds, year_gifts AS gifts, year_last AS last_entry_id
  FROM board_current
UNION ALL
SELECT guild_id, board, creator_id, 'all', 0, user_id, all_score, all_diamonds, all_gifts, all_last
  FROM board_current
UNION ALL
SELECT guild_id, board, creator_id, period, period_start, user_id, score, diamonds, gifts, last_entry_id
  FROM board_closed;
