package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// Addresses is the address book (地址库): standard addresses by unique
// name, searched by any part of it (search.go's trigrams and grams, in
// tables of their own).
type Addresses struct{ db *DB }

// Addresses returns the address book.
func (db *DB) Addresses() *Addresses { return &Addresses{db: db} }

const addressColumns = "id, name, kind, lat, lng, updated_at"

func scanAddress(r scannable) (model.Address, error) {
	var (
		a       model.Address
		kind    string
		updated int64
	)
	if err := r.Scan(&a.ID, &a.Name, &kind, &a.Point.Lat, &a.Point.Lng, &updated); err != nil {
		return model.Address{}, err
	}
	a.Kind, a.UpdatedAt = model.AddressKind(kind), timeOfMs(updated)
	return a, nil
}

// Upsert stores the addresses by name in one transaction: a new name gets
// a row, an id and its search rows; a known one takes the new kind and
// point. It returns how many names were new. Errors: unavailable.
func (s *Addresses) Upsert(ctx context.Context, as []model.Address, at time.Time) (int, error) {
	added := 0
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		w := s.db.txw(ctx, tx)
		added = 0
		for _, a := range as {
			id := model.NewID(at)
			var (
				rid int64
				got string
			)
			err := w.queryRow(`INSERT INTO addresses (id, name, kind, lat, lng, updated_at) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, lat = excluded.lat, lng = excluded.lng, updated_at = excluded.updated_at
				RETURNING rid, id`, id, a.Name, string(a.Kind), a.Point.Lat, a.Point.Lng, msOf(at)).Scan(&rid, &got)
			if err != nil {
				return err
			}
			if got != id {
				continue // known: its name, hence its search rows, stay
			}
			added++
			if _, err := w.exec("INSERT INTO address_text (rowid, name) VALUES (?, ?)", rid, a.Name); err != nil {
				return err
			}
			if _, err := w.exec("INSERT INTO address_grams (rowid, grams) VALUES (?, ?)", rid, grams(a.Name)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store addresses: %w", err)
	}
	return added, nil
}

// searchCandidates bounds the names a search checks for containing its
// words, beyond the exact and prefix matches.
const searchCandidates = 200

// prefixCandidates is how many names starting with the word a search
// reads (in name order) to give the shorter of them first.
func prefixCandidates(limit int) int { return max(4*limit, 40) }

// Search returns up to limit addresses whose name contains every word, best
// first (model.SortAddresses): a single word's exact and prefix matches come
// from the unique index of names, the others from the trigram and gram
// tables, checked for the words themselves. Errors: unavailable.
func (s *Addresses) Search(ctx context.Context, words []string, limit int) ([]model.Address, error) {
	var found []model.Address
	seen := map[string]bool{}
	add := func(query string, args ...any) error {
		rows, err := s.db.r.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAddress(rows)
			if err != nil {
				return err
			}
			if !seen[a.ID] {
				seen[a.ID] = true
				found = append(found, a)
			}
		}
		return rows.Err()
	}
	if len(words) == 1 {
		if err := add(sqlAddressPrefix, words[0], words[0]+"\U0010FFFF", prefixCandidates(limit)); err != nil {
			return nil, fmt.Errorf("search addresses: %w", translate(err))
		}
	}
	// A full page of names that start with the word outranks any that
	// only contain it.
	long, short, ok := wordsMatch(words)
	if ok && (long != "" || short != "") && len(found) < limit {
		query, args := addressContains(long, short)
		if err := add(query, args...); err != nil {
			return nil, fmt.Errorf("search addresses: %w", translate(err))
		}
	}
	found = model.SortAddresses(found, words)
	if len(found) > limit {
		found = found[:limit]
	}
	return found, nil
}

const sqlAddressPrefix = "SELECT " + addressColumns + " FROM addresses WHERE name >= ? AND name < ? ORDER BY name LIMIT ?"

// addressContains is the query of the names holding the words: the long
// ones through address_text, the short ones through address_grams.
func addressContains(long, short string) (string, []any) {
	var (
		conds []string
		args  []any
	)
	if long != "" {
		conds, args = append(conds, "rid IN (SELECT rowid FROM address_text WHERE address_text MATCH ?)"), append(args, long)
	}
	if short != "" {
		conds, args = append(conds, "rid IN (SELECT rowid FROM address_grams WHERE address_grams MATCH ?)"), append(args, short)
	}
	return "SELECT " + addressColumns + " FROM addresses WHERE " + strings.Join(conds, " AND ") + " LIMIT ?", append(args, searchCandidates)
}

// Count is how many addresses there are. Errors: unavailable.
func (s *Addresses) Count(ctx context.Context) (int, error) {
	var n int
	if err := s.db.r.QueryRowContext(ctx, "SELECT count(*) FROM addresses").Scan(&n); err != nil {
		return 0, fmt.Errorf("count addresses: %w", translate(err))
	}
	return n, nil
}

// Layers keeps the map's base layers.
type Layers struct{ db *DB }

// Layers returns the base layers.
func (db *DB) Layers() *Layers { return &Layers{db: db} }

// Create stores a new layer. Errors: unavailable.
func (s *Layers) Create(ctx context.Context, l model.Layer) (*model.Layer, error) {
	now := s.db.clockMs()
	l.ID, l.CreatedAt = model.NewID(now), now
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO layers (id, name, kind, geojson, features, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			l.ID, l.Name, string(l.Kind), string(l.GeoJSON), l.Features, l.CreatedBy, msOf(now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create layer: %w", err)
	}
	return &l, nil
}

// List returns every layer, oldest first. Errors: unavailable.
func (s *Layers) List(ctx context.Context) ([]model.Layer, error) {
	rows, err := s.db.r.QueryContext(ctx, "SELECT id, name, kind, geojson, features, created_by, created_at FROM layers ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list layers: %w", translate(err))
	}
	defer rows.Close()
	out := []model.Layer{}
	for rows.Next() {
		var (
			l       model.Layer
			kind    string
			geojson string
			created int64
		)
		if err := rows.Scan(&l.ID, &l.Name, &kind, &geojson, &l.Features, &l.CreatedBy, &created); err != nil {
			return nil, fmt.Errorf("list layers: %w", translate(err))
		}
		l.Kind, l.GeoJSON, l.CreatedAt = model.LayerKind(kind), []byte(geojson), timeOfMs(created)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list layers: %w", translate(err))
	}
	return out, nil
}

// Delete removes a layer. Errors: not_found, unavailable.
func (s *Layers) Delete(ctx context.Context, id string) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM layers WHERE id = ?", id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return missing("没有底图图层 %s", id)
		}
		return nil
	})
	if err != nil && !errors.Is(err, model.ErrNotFound) {
		return fmt.Errorf("delete layer: %w", err)
	}
	return err
}
