-- The duty of care (docs/privacy.md): staff roles and session versions,
-- the access trail, anonymisation and erasure, redacted photos.

-- Staff accounts: a real name, roles (JSON array, "staff" first), disabled,
-- the session version tokens must carry, and the hash of the configured
-- password (ADMIN_PASSWORD) last applied. Accounts made before roles did
-- everything: they keep admin and dispatcher.
ALTER TABLE staff ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE staff ADD COLUMN roles TEXT NOT NULL DEFAULT '["staff","admin","dispatcher"]';
ALTER TABLE staff ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN sessions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN seed_hash BLOB;
-- WeChat users sign out too.
ALTER TABLE users ADD COLUMN sessions INTEGER NOT NULL DEFAULT 0;

-- The access trail. rid is the entry's time in unix ms << 12 plus its rank
-- within the millisecond: rowid order is time order, so each index lists
-- its entries newest first without a sort, and a time range is a rowid
-- range. Append-only: no UPDATE, ever (the trigger); Prune deletes what is
-- past the retention period.
CREATE TABLE audit (
    rid        INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor_id   TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    ip         TEXT NOT NULL
);
CREATE INDEX audit_actor ON audit (actor_id);
CREATE INDEX audit_action ON audit (action);
CREATE INDEX audit_target ON audit (target);
CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the access trail is append-only');
END;

-- Tickets: anon is when the retention period's anonymisation was done (ms,
-- 0: not yet). Expired reads the final tickets not anonymised yet by how
-- long they have been unchanged.
ALTER TABLE tickets ADD COLUMN anon INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tickets_retention ON tickets (updated_at) WHERE anon = 0 AND status IN ('closed', 'rejected', 'merged');

-- Tickets still holding personal data of a closed account.
CREATE TABLE erasures (
    ticket_id TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    at        INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, user_id)
) WITHOUT ROWID;
CREATE INDEX erasures_by_at ON erasures (at);

-- Redacted photos: when, whether the original is kept (as the file
-- <id>.original) and its digest.
ALTER TABLE photos ADD COLUMN redacted_at INTEGER;
ALTER TABLE photos ADD COLUMN has_original INTEGER NOT NULL DEFAULT 0;
ALTER TABLE photos ADD COLUMN original_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE photos ADD COLUMN original_size INTEGER NOT NULL DEFAULT 0;
ALTER TABLE photos ADD COLUMN original_type TEXT NOT NULL DEFAULT '';
-- A resident's uploads, for the closing of their account.
CREATE INDEX photos_by_owner ON photos (owner_id) WHERE owner_id <> '';
-- The messages sent to a resident, for the closing of their account.
CREATE INDEX notifications_by_user ON notifications (user_id);

-- A deleted ticket text leaves no trace in the search index: FTS5 rewrites
-- the index's pages at once instead of keeping tombstones until a merge.
INSERT INTO ticket_text (ticket_text, rank) VALUES ('secure-delete', 1);
INSERT INTO ticket_grams (ticket_grams, rank) VALUES ('secure-delete', 1);
