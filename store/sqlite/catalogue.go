package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
)

// Categories stores the category catalogue.
type Categories struct{ db *DB }

// Categories returns the catalogue store.
func (db *DB) Categories() *Categories { return &Categories{db: db} }

// Seed inserts the categories that are missing and leaves the others as
// staff last changed them, in one transaction. Errors: unavailable.
func (s *Categories) Seed(ctx context.Context, cats []model.Category) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		now := msOf(s.db.clockMs())
		for _, c := range cats {
			if _, err := tx.ExecContext(ctx, `INSERT INTO categories (code, name, major, sla_hours, volunteer_suitable, duplicate_radius_m, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING`,
				c.Code, c.Name, c.Major, c.SLAHours, c.VolunteerSuitable, c.DuplicateRadiusM, now); err != nil {
				return fmt.Errorf("seed category %s: %w", c.Code, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seed categories: %w", err)
	}
	return nil
}

// List returns every category ordered by code. Errors: unavailable.
func (s *Categories) List(ctx context.Context) ([]model.Category, error) {
	rows, err := s.db.r.QueryContext(ctx, `SELECT code, name, major, sla_hours, volunteer_suitable, duplicate_radius_m FROM categories ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list categories: %w", translate(err))
	}
	defer rows.Close()
	out := []model.Category{}
	for rows.Next() {
		var c model.Category
		if err := rows.Scan(&c.Code, &c.Name, &c.Major, &c.SLAHours, &c.VolunteerSuitable, &c.DuplicateRadiusM); err != nil {
			return nil, fmt.Errorf("list categories: %w", translate(err))
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list categories: %w", translate(err))
	}
	return out, nil
}

// Put creates or replaces a category. Errors: unavailable.
func (s *Categories) Put(ctx context.Context, c model.Category) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO categories (code, name, major, sla_hours, volunteer_suitable, duplicate_radius_m, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET name = excluded.name, major = excluded.major,
			sla_hours = excluded.sla_hours, volunteer_suitable = excluded.volunteer_suitable,
			duplicate_radius_m = excluded.duplicate_radius_m, updated_at = excluded.updated_at`,
			c.Code, c.Name, c.Major, c.SLAHours, c.VolunteerSuitable, c.DuplicateRadiusM, msOf(s.db.clockMs()))
		return err
	})
	if err != nil {
		return fmt.Errorf("put category: %w", err)
	}
	return nil
}

// Grids stores the grids' outlines (WKB, see geo.EncodeShape) and the
// revision every instance watches to reload its index.
type Grids struct{ db *DB }

// Grids returns the grid store.
func (db *DB) Grids() *Grids { return &Grids{db: db} }

// metaGridsRevision is the meta row holding the grids' revision.
const metaGridsRevision = "grids.revision"

// Upsert stores the grids by code and moves the revision on, in one
// transaction. Errors: unavailable.
func (s *Grids) Upsert(ctx context.Context, grids []geo.Grid) ([]model.Grid, error) {
	now := s.db.clockMs()
	out := make([]model.Grid, len(grids))
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		for i, g := range grids {
			if _, err := tx.ExecContext(ctx, `INSERT INTO grids (code, name, community, updated_at, shape) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (code) DO UPDATE SET name = excluded.name, community = excluded.community,
				updated_at = excluded.updated_at, shape = excluded.shape`,
				g.Code, g.Name, g.Community, msOf(now), geo.EncodeShape(g.Shape)); err != nil {
				return fmt.Errorf("store grid %s: %w", g.Code, err)
			}
			out[i] = model.Grid{Code: g.Code, Name: g.Name, Community: g.Community, UpdatedAt: now}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
			metaGridsRevision, model.NewID(now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("upsert grids: %w", err)
	}
	return out, nil
}

// Revision returns an opaque value that changes whenever grids change (""
// before any grid was stored). Errors: unavailable.
func (s *Grids) Revision(ctx context.Context) (string, error) {
	var rev string
	err := s.db.r.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", metaGridsRevision).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("grid revision: %w", translate(err))
	}
	return rev, nil
}

// All returns every grid with its outline, by code. Errors: unavailable,
// internal (an outline that does not decode).
func (s *Grids) All(ctx context.Context) ([]geo.Grid, error) {
	rows, err := s.db.r.QueryContext(ctx, "SELECT code, name, community, shape FROM grids ORDER BY code")
	if err != nil {
		return nil, fmt.Errorf("load grids: %w", translate(err))
	}
	defer rows.Close()
	out := []geo.Grid{}
	for rows.Next() {
		var (
			g     geo.Grid
			shape []byte
		)
		if err := rows.Scan(&g.Code, &g.Name, &g.Community, &shape); err != nil {
			return nil, fmt.Errorf("load grids: %w", translate(err))
		}
		if g.Shape, err = geo.DecodeShape(shape); err != nil {
			return nil, fmt.Errorf("grid %s: %w", g.Code, err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load grids: %w", translate(err))
	}
	return out, nil
}

// List returns the grids without their outlines, by code. Errors:
// unavailable.
func (s *Grids) List(ctx context.Context) ([]model.Grid, error) {
	rows, err := s.db.r.QueryContext(ctx, "SELECT code, name, community, updated_at FROM grids ORDER BY code")
	if err != nil {
		return nil, fmt.Errorf("list grids: %w", translate(err))
	}
	defer rows.Close()
	out := []model.Grid{}
	for rows.Next() {
		var (
			g  model.Grid
			at int64
		)
		if err := rows.Scan(&g.Code, &g.Name, &g.Community, &at); err != nil {
			return nil, fmt.Errorf("list grids: %w", translate(err))
		}
		g.UpdatedAt = timeOfMs(at)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list grids: %w", translate(err))
	}
	return out, nil
}
