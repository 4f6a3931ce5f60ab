-- Everything but tickets: accounts, invites, the people directory, the
-- catalogue (categories, grids), photos, activities, Open311's keys and
-- submitters, notifications and subscribe-message allowances.
--
-- Times are INTEGER milliseconds since the Unix epoch (UTC), NULL when
-- unset. Multi-valued fields a query filters by are join tables (a worker's
-- grids, a member's communities, the grams of names and phones); the others
-- are JSON arrays. Tables whose rows are small and looked up by a text key
-- are WITHOUT ROWID.

-- WeChat users: one per openid, created on first login.
CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    openid          TEXT NOT NULL UNIQUE,
    roles           TEXT NOT NULL,             -- JSON array, in the order granted
    worker_id       TEXT NOT NULL DEFAULT '',
    party_member_id TEXT NOT NULL DEFAULT '',
    on_duty         INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
) WITHOUT ROWID;

-- Staff accounts (the console), by unique username.
CREATE TABLE staff (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash BLOB NOT NULL,
    created_at    INTEGER NOT NULL
) WITHOUT ROWID;

-- Single-use invite codes, keyed by the code's digest.
CREATE TABLE invites (
    code_hash  TEXT PRIMARY KEY,
    role       TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used_by    TEXT NOT NULL DEFAULT '',
    used_at    INTEGER,
    revoked    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
-- RevokeUnused: a profile's unused invites.
CREATE INDEX invites_unused_by_profile ON invites (profile_id, role) WHERE used_by = '';

-- Grid workers. name_fold is the name in lower case (Go's Unicode rules),
-- what the directory's words are matched against.
CREATE TABLE workers (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    name_fold  TEXT NOT NULL,
    phone      TEXT NOT NULL,
    grid_codes TEXT NOT NULL,                  -- JSON array, as staff gave it
    user_id    TEXT NOT NULL DEFAULT '',
    active     INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX workers_by_created ON workers (created_at, id);
CREATE INDEX workers_by_active ON workers (active, created_at, id);
CREATE INDEX workers_by_phone ON workers (phone, active);

-- A worker's grids, one row each: the directory's grid filter and routing's
-- WorkerUsers, in creation order.
CREATE TABLE worker_grids (
    grid_code  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    worker_id  TEXT NOT NULL,
    PRIMARY KEY (grid_code, created_at, worker_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX worker_grids_by_worker ON worker_grids (worker_id, grid_code);

-- The distinct one- and two-character grams of a worker's folded name and
-- of their phone: a directory word is looked up by one of its grams, then
-- matched as a substring.
CREATE TABLE worker_grams (
    gram       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    worker_id  TEXT NOT NULL,
    PRIMARY KEY (gram, created_at, worker_id)
) WITHOUT ROWID;
CREATE INDEX worker_grams_by_worker ON worker_grams (worker_id);

-- Party branches (党支部).
CREATE TABLE branches (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX branches_by_created ON branches (created_at, id);

-- Party members (在职党员), as workers.
CREATE TABLE party_members (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    name_fold   TEXT NOT NULL,
    phone       TEXT NOT NULL,
    branch_id   TEXT NOT NULL,
    communities TEXT NOT NULL,                 -- JSON array, as staff gave it
    user_id     TEXT NOT NULL DEFAULT '',
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX party_members_by_created ON party_members (created_at, id);
CREATE INDEX party_members_by_active ON party_members (active, created_at, id);
CREATE INDEX party_members_by_branch ON party_members (branch_id, created_at, id);
-- ListBranches: active members per branch, from the index alone.
CREATE INDEX party_members_by_active_branch ON party_members (active, branch_id);
CREATE INDEX party_members_by_phone ON party_members (phone, active);

CREATE TABLE member_communities (
    community  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    member_id  TEXT NOT NULL,
    PRIMARY KEY (community, created_at, member_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX member_communities_by_member ON member_communities (member_id, community);

CREATE TABLE member_grams (
    gram       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    member_id  TEXT NOT NULL,
    PRIMARY KEY (gram, created_at, member_id)
) WITHOUT ROWID;
CREATE INDEX member_grams_by_member ON member_grams (member_id);

-- A phone held by an active profile of a role: the primary key decides
-- which of two profiles given one phone at once keeps it.
CREATE TABLE phone_claims (
    role       TEXT NOT NULL,
    phone      TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (role, phone)
) WITHOUT ROWID;

-- The category catalogue.
CREATE TABLE categories (
    code               TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    major              TEXT NOT NULL,
    sla_hours          INTEGER NOT NULL,
    volunteer_suitable INTEGER NOT NULL,
    duplicate_radius_m INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
) WITHOUT ROWID;

-- Grids with their outline as WKB (geo.EncodeShape), last so that a read
-- of the other columns does not load it. A rowid table: outlines are large.
-- The revision every instance watches is meta's 'grids.revision'.
CREATE TABLE grids (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    community  TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    shape      BLOB NOT NULL
);

-- Photos: what is known of them. The bytes are files under
-- DATA_DIR/photos/<first five hex digits of the id>/<id>.<variant>, written
-- after the row (so every file has a row) and removed before it.
-- gone = 1 marks a photo the sweeper is deleting: no longer readable or
-- claimable, its files going.
CREATE TABLE photos (
    id            TEXT PRIMARY KEY,
    owner_id      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    width         INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    thumb_size    INTEGER NOT NULL,
    thumb_sha256  TEXT NOT NULL,
    taken_at      INTEGER,
    exif_lat      REAL,
    exif_lng      REAL,
    used_by       TEXT NOT NULL DEFAULT '',
    trace_id      TEXT NOT NULL DEFAULT '',
    suggest       TEXT NOT NULL DEFAULT '',
    sent_at       INTEGER,
    checked_at    INTEGER,
    gone          INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
) WITHOUT ROWID;
-- DeleteUnused: unused photos by age.
CREATE INDEX photos_unused_by_created ON photos (created_at) WHERE used_by = '' AND gone = 0;
-- DeleteUnused: deletions a crash interrupted.
CREATE INDEX photos_gone ON photos (id) WHERE gone = 1;
-- ExpireModeration: checks sent and unanswered, by when sent.
CREATE INDEX photos_awaiting_verdict ON photos (sent_at) WHERE trace_id <> '' AND suggest = '';

-- A content check sent to WeChat (mediaCheckAsync): its trace id → photo.
CREATE TABLE photo_traces (
    trace_id TEXT PRIMARY KEY,
    photo_id TEXT NOT NULL,
    at       INTEGER NOT NULL
) WITHOUT ROWID;

-- Verdicts that came before their trace id was recorded on a photo.
CREATE TABLE media_verdicts (
    trace_id TEXT PRIMARY KEY,
    suggest  TEXT NOT NULL,
    at       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX media_verdicts_by_at ON media_verdicts (at);

-- Party members' activities and their check-ins (one per member and
-- activity; kind and starts_at copied from the activity).
CREATE TABLE activities (
    id         TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    community  TEXT NOT NULL,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
-- CountActivities, from the index alone.
CREATE INDEX activities_by_start ON activities (starts_at, kind);

CREATE TABLE activity_checkins (
    activity_id TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    starts_at   INTEGER NOT NULL,
    user_id     TEXT NOT NULL,
    branch_id   TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (activity_id, member_id)
) WITHOUT ROWID;
-- CheckinsBetween, in its order.
CREATE INDEX activity_checkins_by_start ON activity_checkins (starts_at, activity_id, member_id);

-- Open311 clients' keys (the secret's digest only) and what a client said
-- about who filed a request, per ticket.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    hash       TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) WITHOUT ROWID;

CREATE TABLE open311_submitters (
    ticket_id  TEXT PRIMARY KEY,
    key_id     TEXT NOT NULL,
    key_name   TEXT NOT NULL,
    email      TEXT NOT NULL,
    phone      TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name  TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    account_id TEXT NOT NULL,
    media_url  TEXT NOT NULL,
    address_id TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Each logical subscribe message once, by the notifier's job key.
CREATE TABLE notifications (
    key         TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    template_id TEXT NOT NULL,
    at          INTEGER NOT NULL,
    finished_at INTEGER
) WITHOUT ROWID;
-- Prune, by age.
CREATE INDEX notifications_by_at ON notifications (at);

-- Subscribe-message allowances per user and template.
CREATE TABLE subscriptions (
    user_id     TEXT NOT NULL,
    template_id TEXT NOT NULL,
    remaining   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, template_id)
) WITHOUT ROWID;
