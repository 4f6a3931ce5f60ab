package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// APIKeys stores the Open311 clients' keys, by id, with the digest of
// their secret only.
type APIKeys struct{ db *DB }

// APIKeys returns the api key store.
func (db *DB) APIKeys() *APIKeys { return &APIKeys{db: db} }

const apiKeyColumns = "id, name, hash, created_by, created_at, revoked_at"

func scanAPIKey(r scannable) (*model.APIKey, error) {
	var (
		k       model.APIKey
		created int64
		revoked sql.NullInt64
	)
	if err := r.Scan(&k.ID, &k.Name, &k.Hash, &k.CreatedBy, &created, &revoked); err != nil {
		return nil, err
	}
	k.CreatedAt, k.RevokedAt = timeOfMs(created), timeOfNullMs(revoked)
	return &k, nil
}

// Insert stores a new key. Errors: conflict (the id exists), unavailable.
func (s *APIKeys) Insert(ctx context.Context, k *model.APIKey) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO api_keys ("+apiKeyColumns+") VALUES (?, ?, ?, ?, ?, ?)",
			k.ID, k.Name, k.Hash, k.CreatedBy, msOf(k.CreatedAt), msOrNull(k.RevokedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("insert api key: %w", err)
	}
	return nil
}

// Get returns a key by id. Errors: not_found, unavailable.
func (s *APIKeys) Get(ctx context.Context, id string) (*model.APIKey, error) {
	k, err := scanAPIKey(s.db.r.QueryRowContext(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, missing("没有 api key %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get api key: %w", translate(err))
	}
	return k, nil
}

// List returns every key, newest first (at most 1000: there is one per
// client organisation). Errors: unavailable.
func (s *APIKeys) List(ctx context.Context) ([]*model.APIKey, error) {
	rows, err := s.db.r.QueryContext(ctx, "SELECT "+apiKeyColumns+" FROM api_keys ORDER BY id DESC LIMIT 1000")
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", translate(err))
	}
	defer rows.Close()
	out := []*model.APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", translate(err))
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api keys: %w", translate(err))
	}
	return out, nil
}

// Revoke marks a key revoked at the given time; revoking a revoked key
// keeps its first revocation time. Errors: not_found, unavailable.
func (s *APIKeys) Revoke(ctx context.Context, id string, at time.Time) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", msOf(at), id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err == nil && n == 0 {
			return missing("没有 api key %s", id)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	return nil
}
