-- giftbot schema v4: coins tagged paid or promo, coin packages and Discord purchases, promotions,
-- diamond holds for the refund window, cash-out requests, and the audit channel's queue.
-- Backfill: in this file. Before v4 every coin came from a promo grant, so the existing member
-- accounts are the promo ones: renaming their codes moves no balance and rewrites no ledger row.

UPDATE accounts SET code = 'coins_promo' WHERE owner_id <> 0 AND code = 'coins';
UPDATE accounts SET code = 'diamonds_promo' WHERE owner_id <> 0 AND code = 'diamonds';

-- Two new system accounts per guild: the store issues bought coins (negative by design, like the
-- promo issuer), and cash-outs collect the diamonds that moderators paid out.
INSERT INTO accounts (guild_id, owner_id, code, currency, non_negative, balance, created_at)
SELECT guild_id, 0, 'store', 'coin', 0, 0, created_at FROM guilds;
INSERT INTO accounts (guild_id, owner_id, code, currency, non_negative, balance, created_at)
SELECT guild_id, 0, 'cashout', 'diamond', 1, 0, created_at FROM guilds;

-- How much of each gift was paid for with bought coins; the rest was promo. Old gifts: all promo.
ALTER TABLE gift_events ADD COLUMN paid_coins INTEGER NOT NULL DEFAULT 0 CHECK (paid_coins >= 0);
ALTER TABLE gift_events ADD COLUMN paid_diamonds INTEGER NOT NULL DEFAULT 0 CHECK (paid_diamonds >= 0);

-- Paid diamonds still inside the refund window, one row per creator and maturity day. A refund
-- takes these back first; what remains becomes cashable at matures_at.
CREATE TABLE diamond_holds (
    guild_id   INTEGER NOT NULL,
    creator_id INTEGER NOT NULL,
    matures_at INTEGER NOT NULL,
    amount     INTEGER NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (guild_id, creator_id, matures_at)
);

-- A guild's coin packages; sku_id maps one to a Discord consumable SKU.
CREATE TABLE coin_packages (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL REFERENCES guilds (guild_id),
    coins      INTEGER NOT NULL CHECK (coins > 0),
    bonus      INTEGER NOT NULL DEFAULT 0 CHECK (bonus >= 0),
    sku_id     INTEGER,
    enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    updated_at INTEGER NOT NULL,
    UNIQUE (guild_id, coins, bonus)
);
CREATE UNIQUE INDEX coin_packages_by_sku ON coin_packages (guild_id, sku_id) WHERE sku_id IS NOT NULL;

-- The guild a member last saw a package's buy button in: where an entitlement that arrives
-- without a guild is credited.
CREATE TABLE purchase_intents (
    user_id    INTEGER NOT NULL,
    sku_id     INTEGER NOT NULL,
    guild_id   INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, sku_id)
);

-- One row per Discord entitlement, whatever became of it. guild_id is NULL while the coins wait
-- in the buyer's inbox. entry_id is the credit entry (its key is "entitlement:<id>").
CREATE TABLE purchases (
    entitlement_id  INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL,
    sku_id          INTEGER NOT NULL,
    guild_id        INTEGER,
    package_id      INTEGER,
    coins           INTEGER NOT NULL DEFAULT 0 CHECK (coins >= 0),
    bonus_coins     INTEGER NOT NULL DEFAULT 0 CHECK (bonus_coins >= 0),
    promotion_id    INTEGER,
    entry_id        INTEGER REFERENCES entries (id),
    bonus_entry_id  INTEGER REFERENCES entries (id),
    status          TEXT    NOT NULL CHECK (status IN ('inbox', 'credited', 'refunded')),
    purchased_at    INTEGER NOT NULL,
    credited_at     INTEGER,
    consumed_at     INTEGER,
    refunded_at     INTEGER,
    refund_entry_id INTEGER REFERENCES entries (id),
    unrecovered     INTEGER NOT NULL DEFAULT 0 CHECK (unrecovered >= 0)
);
CREATE INDEX purchases_inbox ON purchases (user_id, status);
CREATE INDEX purchases_unconsumed ON purchases (consumed_at) WHERE consumed_at IS NULL;

-- Time-limited bonus events: purchases made while one runs get percent more coins, as promo.
CREATE TABLE promotions (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL REFERENCES guilds (guild_id),
    percent      INTEGER NOT NULL CHECK (percent BETWEEN 1 AND 500),
    starts_at    INTEGER NOT NULL,
    ends_at      INTEGER NOT NULL,
    created_by   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    cancelled_at INTEGER,
    cancelled_by INTEGER,
    idempotency_key TEXT UNIQUE, -- the /mod promo create interaction: a redelivery creates none
    CHECK (ends_at > starts_at)
);
CREATE INDEX promotions_by_guild ON promotions (guild_id, starts_at);

-- What each refund took back from a gift bought with the refunded coins: a later refund never
-- claws the same gift's diamonds twice.
CREATE TABLE refund_clawbacks (
    refund_entry_id INTEGER NOT NULL REFERENCES entries (id),
    gift_entry_id   INTEGER NOT NULL REFERENCES gift_events (entry_id),
    coins           INTEGER NOT NULL CHECK (coins > 0),
    diamonds        INTEGER NOT NULL CHECK (diamonds >= 0),
    PRIMARY KEY (gift_entry_id, refund_entry_id)
);

-- A creator's request to cash diamonds out. The diamonds sit in the creator's pending account
-- from request to decision; no real money moves through the bot.
CREATE TABLE cashouts (
    id                INTEGER PRIMARY KEY,
    guild_id          INTEGER NOT NULL REFERENCES guilds (guild_id),
    creator_id        INTEGER NOT NULL,
    amount            INTEGER NOT NULL CHECK (amount > 0),
    status            TEXT    NOT NULL CHECK (status IN ('pending', 'frozen', 'approved', 'rejected')),
    request_entry_id  INTEGER NOT NULL REFERENCES entries (id),
    requested_at      INTEGER NOT NULL,
    decided_by        INTEGER,
    decided_at        INTEGER,
    decision_entry_id INTEGER REFERENCES entries (id),
    reference         TEXT,
    reason            TEXT
);
CREATE INDEX cashouts_open ON cashouts (guild_id, status, id);
CREATE INDEX cashouts_by_creator ON cashouts (guild_id, creator_id, id);

-- The ledger by guild and time, for /mod audit pages and exports.
CREATE INDEX entries_by_guild ON entries (guild_id, id);

-- Every existing guild gets TikTok's default packages, as new guilds do (storage/ledger.py).
INSERT INTO coin_packages (guild_id, coins, bonus, sku_id, enabled, updated_at)
SELECT g.guild_id, d.coins, d.bonus, NULL, 1, g.created_at
FROM guilds g CROSS JOIN (
    SELECT 70 AS coins, 0 AS bonus UNION ALL SELECT 350, 38 UNION ALL SELECT 700, 100
    UNION ALL SELECT 1400, 300 UNION ALL SELECT 3500, 800 UNION ALL SELECT 7000, 2000
) d;
