-- Activities are listed, edited and cancelled (a cancelled activity stays,
-- with its check-ins, and counts nothing).
ALTER TABLE activities ADD COLUMN cancelled_at INTEGER;
ALTER TABLE activities ADD COLUMN cancel_reason TEXT NOT NULL DEFAULT '';
-- The lists: by start (the table's key, id, follows in every index of a
-- WITHOUT ROWID table), by community, by kind; the live ones by start for
-- the statistics (CountActivities, CheckinsBetween).
CREATE INDEX activities_by_start_id ON activities (starts_at);
CREATE INDEX activities_by_community ON activities (community, starts_at);
CREATE INDEX activities_by_kind ON activities (kind, starts_at);
CREATE INDEX activities_live ON activities (starts_at) WHERE cancelled_at IS NULL;
-- An activity's check-ins in the order they were made (its detail).
CREATE INDEX activity_checkins_by_at ON activity_checkins (activity_id, at);
