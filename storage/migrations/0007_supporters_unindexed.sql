-- giftbot schema v7: a creator's supporters are ranked by reading that creator's rows, which lie
-- together in board_current's primary key, instead of through five rank indexes that every
-- supporters gift had to move.
DROP INDEX board_current_supporters_day;
DROP INDEX board_current_supporters_week;
DROP INDEX board_current_supporters_month;
DROP INDEX board_current_supporters_year;
DROP INDEX board_current_supporters_all;
