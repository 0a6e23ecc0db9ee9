-- giftbot schema v5: forgetting a member on request (`giftbot forget GUILD USER`, storage/forget.py).
-- A forgotten member's id is replaced everywhere in one guild by a tombstone: a negative id that
-- stands for "a member who asked to be forgotten". Nothing here links a tombstone to the old id.

CREATE TABLE forgotten_members (
    tombstone    INTEGER PRIMARY KEY CHECK (tombstone < 0),
    guild_id     INTEGER NOT NULL REFERENCES guilds (guild_id),
    forgotten_at INTEGER NOT NULL
);

-- The ledger stays append-only, with exactly one exception: an entry's actor may become the
-- tombstone recorded for that guild. Amounts, keys, kinds, reasons and times never change, and
-- transfers (which name accounts, not people) are not touched at all.
DROP TRIGGER entries_append_only_update;
CREATE TRIGGER entries_append_only_update BEFORE UPDATE ON entries
WHEN NOT (
    OLD.actor_id > 0
    AND NEW.actor_id < 0
    AND NEW.id = OLD.id
    AND NEW.guild_id = OLD.guild_id
    AND NEW.idempotency_key = OLD.idempotency_key
    AND NEW.kind = OLD.kind
    AND NEW.reason IS OLD.reason
    AND NEW.created_at = OLD.created_at
    AND EXISTS (
        SELECT 1 FROM forgotten_members f WHERE f.tombstone = NEW.actor_id AND f.guild_id = OLD.guild_id
    )
)
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
