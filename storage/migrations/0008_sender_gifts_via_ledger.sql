-- giftbot schema v8: a member's sent gifts are found through their ledger legs, not an index
-- of their own.
--
-- Every gift debits the sender's coin accounts (a gift costs at least one coin, and its coin
-- legs leave only the sender's promo and paid wallets), and transfers_by_debit already keys
-- those legs by account and entry. gift_events_by_sender kept a second copy of the same list:
-- one more page at a random place in the file for every gift, about a tenth of the pages a
-- gift writes (docs/benchmarks.md), for reads that are rare (forget, a counter rebuild, the
-- weekly digest). Those reads now go from the member's coin accounts to their debit legs and
-- on to gift_events by its primary key (storage/budget_ops.py, storage/forget.py).
--
-- The creator's index stays: a one-coin gift earns no diamonds, so it has no leg that names
-- the creator's accounts, and the ledger alone cannot list what a creator received.
--
-- Backfill: none. Dropping an index moves no row, and the reads above need nothing new.

DROP INDEX gift_events_by_sender;
