-- The address book (地址库, GB/T 30428.3) and the map's base layers.
--
-- An address is a row keyed by rid (its order of arrival) with a unique
-- name; its name is searched as the tickets' texts are: trigrams for words
-- of three or more characters, each character and pair of characters
-- (hex-encoded) for shorter ones, in contentless FTS5 tables keyed by rid.
CREATE TABLE addresses (
    rid        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL UNIQUE, -- exact and prefix matches, from this index
    kind       TEXT NOT NULL,
    lat        REAL NOT NULL,        -- WGS-84
    lng        REAL NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE VIRTUAL TABLE address_text USING fts5(name, tokenize = 'trigram', content = '', contentless_delete = 1);
CREATE VIRTUAL TABLE address_grams USING fts5(grams, tokenize = 'ascii', content = '', contentless_delete = 1, detail = 'none');

-- Base layers: a GeoJSON FeatureCollection each (WGS-84), kept as text.
CREATE TABLE layers (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    geojson    TEXT NOT NULL,
    features   INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
