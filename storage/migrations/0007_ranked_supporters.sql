-- giftbot schema v7: a creator's supporters get rank indexes only once the creator is big.
--
-- Schema 6 ranked every creator's supporters with five partial indexes, so every gift moved
-- five index entries of its supporter row: about a fifth of the gift throughput, spent mostly
-- on creators with a handful of fans, whose page sorts in well under a millisecond anyway
-- (docs/benchmarks.md). Now a board_current row says whether it is `ranked`:
-- * a creators row: this creator's supporters are in the rank indexes, read in order;
-- * a supporters row: it is in the rank indexes.
-- A creator is ranked from their 1,000th gift received on (storage/rollups.RANK_FROM), when
-- all their supporter rows are flagged at once; their new supporter rows come flagged. Before
-- that, a page sorts the creator's supporters, who are at most as many as the gifts: 999.
-- The flag only ever goes from 0 to 1, and the reads never need it to be exact the other way:
-- an unranked creator's page sorts every supporter row, flagged or not.
--
-- Backfill: here, in SQL, by the same rule the writer and the recount apply. Changing the
-- threshold needs a migration like this one, since the checks compare the flags with a recount.

ALTER TABLE board_current ADD COLUMN ranked INTEGER NOT NULL DEFAULT 0 CHECK (ranked IN (0, 1));

DROP INDEX board_current_supporters_day;
DROP INDEX board_current_supporters_week;
DROP INDEX board_current_supporters_month;
DROP INDEX board_current_supporters_year;
DROP INDEX board_current_supporters_all;

UPDATE board_current SET ranked = 1
WHERE board = 'creators' AND creator_id = 0 AND all_gifts >= 1000;

UPDATE board_current SET ranked = 1
WHERE board = 'supporters' AND EXISTS (
    SELECT 1 FROM board_current c
    WHERE c.guild_id = board_current.guild_id AND c.board = 'creators' AND c.creator_id = 0
    AND c.user_id = board_current.creator_id AND c.ranked = 1
);

-- `ranked` is last in each index only so that a count of a bucket reads the index alone.
CREATE INDEX board_current_supporters_day
    ON board_current (guild_id, creator_id, day_start, day_score DESC, day_last, ranked)
    WHERE board = 'supporters' AND ranked = 1;
CREATE INDEX board_current_supporters_week
    ON board_current (guild_id, creator_id, week_start, week_score DESC, week_last, ranked)
    WHERE board = 'supporters' AND ranked = 1;
CREATE INDEX board_current_supporters_month
    ON board_current (guild_id, creator_id, month_start, month_score DESC, month_last, ranked)
    WHERE board = 'supporters' AND ranked = 1;
CREATE INDEX board_current_supporters_year
    ON board_current (guild_id, creator_id, year_start, year_score DESC, year_last, ranked)
    WHERE board = 'supporters' AND ranked = 1;
CREATE INDEX board_current_supporters_all
    ON board_current (guild_id, creator_id, all_score DESC, all_last, ranked)
    WHERE board = 'supporters' AND ranked = 1;
