-- Tickets, their search index, statistics and hand-offs (docs/sqlite.md).
--
-- A ticket is two rows: the columns every query filters or sorts on
-- (tickets, narrow, so that counting and filtering read few pages) and the
-- whole ticket encoded (ticket_docs, read only for the rows a page returns).
-- Both are keyed by rid = created_at in unix ms << 12 | n: rowid order is
-- creation order, so an index on a column lists its tickets newest or
-- oldest first without a sort, and a created_at range is a rowid range.
CREATE TABLE tickets (
    rid          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL,
    status       TEXT NOT NULL,
    version      INTEGER NOT NULL,
    grid_code    TEXT NOT NULL,
    category     TEXT NOT NULL,
    source       TEXT NOT NULL,
    assignee_id  TEXT NOT NULL,
    queue        TEXT NOT NULL,
    pool         INTEGER NOT NULL,
    held         INTEGER NOT NULL,
    open_overdue INTEGER NOT NULL, -- model.Ticket.OpenOverdue
    closed_late  INTEGER NOT NULL, -- model.Ticket.ClosedLate
    due_key      INTEGER NOT NULL, -- due_at in unix ms; no deadline sorts last
    updated_at   INTEGER NOT NULL, -- unix ms
    community    TEXT NOT NULL,
    reporter_id  TEXT NOT NULL,
    gh           TEXT NOT NULL,    -- geohash of the point, geo.MaxCellPrecision characters
    case_no      TEXT NOT NULL,
    idem         TEXT NOT NULL
);
CREATE UNIQUE INDEX tickets_id ON tickets(id);
CREATE UNIQUE INDEX tickets_case_no ON tickets(case_no);
CREATE UNIQUE INDEX tickets_idem ON tickets(idem);
-- The staff list: one index per filter that can drive it, newest/oldest
-- first (rowid order), and by deadline.
CREATE INDEX tickets_status ON tickets(status);
CREATE INDEX tickets_status_due ON tickets(status, due_key);
CREATE INDEX tickets_grid ON tickets(grid_code);
CREATE INDEX tickets_grid_due ON tickets(grid_code, due_key);
CREATE INDEX tickets_category ON tickets(category);
CREATE INDEX tickets_category_due ON tickets(category, due_key);
CREATE INDEX tickets_source ON tickets(source);
CREATE INDEX tickets_source_due ON tickets(source, due_key);
CREATE INDEX tickets_due ON tickets(due_key);
-- Small sets: partial indexes.
CREATE INDEX tickets_queue ON tickets(queue) WHERE queue <> '';
CREATE INDEX tickets_held ON tickets(held) WHERE held = 1;
CREATE INDEX tickets_overdue ON tickets(open_overdue) WHERE open_overdue = 1;
CREATE INDEX tickets_late ON tickets(closed_late) WHERE closed_late = 1;
CREATE INDEX tickets_pool ON tickets(community) WHERE pool = 1;
CREATE INDEX tickets_open ON tickets(id) WHERE status IN ('pending', 'dispatched', 'in_progress', 'resolved');
-- A resident's reports, a worker's tasks and loads, what is near, the
-- reconciler's stale tickets.
CREATE INDEX tickets_reporter ON tickets(reporter_id);
CREATE INDEX tickets_assignee ON tickets(assignee_id, status);
CREATE INDEX tickets_near ON tickets(status, gh);
CREATE INDEX tickets_stale ON tickets(status, held, updated_at);

CREATE TABLE ticket_docs (
    rid       INTEGER PRIMARY KEY, -- tickets.rid
    body_hash TEXT NOT NULL,
    doc       BLOB NOT NULL,       -- the ticket, encoded (tickets_codec.go)
    hist      TEXT NOT NULL        -- per committed version "version:events:assignee:role;" (History)
);

-- Search: trigrams of description and address for words of three or more
-- characters; for shorter words, each character and pair of characters
-- (lower-cased, hex-encoded so no tokenizer splits them) in one column.
CREATE VIRTUAL TABLE ticket_text USING fts5(description, address, tokenize = 'trigram', content = '', contentless_delete = 1);
CREATE VIRTUAL TABLE ticket_grams USING fts5(grams, tokenize = 'ascii', content = '', contentless_delete = 1, detail = 'none');

-- Case numbers: the last sequence number given on each day (China time).
CREATE TABLE case_days (
    day  TEXT PRIMARY KEY, -- YYYYMMDD
    last INTEGER NOT NULL
) WITHOUT ROWID;

-- The statistics: one row per period bucket, dimension and key; c0..c20
-- are model.RollupValues by counter index.
CREATE TABLE rollups (
    dim    TEXT NOT NULL,
    period TEXT NOT NULL,
    key    TEXT NOT NULL,
    c0 REAL NOT NULL DEFAULT 0, c1 REAL NOT NULL DEFAULT 0, c2 REAL NOT NULL DEFAULT 0,
    c3 REAL NOT NULL DEFAULT 0, c4 REAL NOT NULL DEFAULT 0, c5 REAL NOT NULL DEFAULT 0,
    c6 REAL NOT NULL DEFAULT 0, c7 REAL NOT NULL DEFAULT 0, c8 REAL NOT NULL DEFAULT 0,
    c9 REAL NOT NULL DEFAULT 0, c10 REAL NOT NULL DEFAULT 0, c11 REAL NOT NULL DEFAULT 0,
    c12 REAL NOT NULL DEFAULT 0, c13 REAL NOT NULL DEFAULT 0, c14 REAL NOT NULL DEFAULT 0,
    c15 REAL NOT NULL DEFAULT 0, c16 REAL NOT NULL DEFAULT 0, c17 REAL NOT NULL DEFAULT 0,
    c18 REAL NOT NULL DEFAULT 0, c19 REAL NOT NULL DEFAULT 0, c20 REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (dim, period, key)
) WITHOUT ROWID;

-- Committed changes whose after-commit work is not relayed yet (model.Handoff).
CREATE TABLE handoffs (
    ticket_id  TEXT PRIMARY KEY,
    version    INTEGER NOT NULL,
    from_event INTEGER NOT NULL,
    owner      TEXT NOT NULL,
    at         INTEGER NOT NULL -- unix ms
) WITHOUT ROWID;
CREATE INDEX handoffs_at ON handoffs(at);
