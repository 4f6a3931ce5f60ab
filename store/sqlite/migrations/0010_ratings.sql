-- The residents' ratings in the statistics (model.CounterScored,
-- model.CounterRatingPoints): two more counter columns. The figures of
-- tickets rated before this version are counted by a rebuild, which the
-- store runs once at start-up when meta says so (DB.settleMigrations).
ALTER TABLE rollups ADD COLUMN c21 REAL NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN c22 REAL NOT NULL DEFAULT 0;
INSERT INTO meta (key, value) VALUES ('rebuild_stats', '0010_ratings')
    ON CONFLICT (key) DO UPDATE SET value = excluded.value;
