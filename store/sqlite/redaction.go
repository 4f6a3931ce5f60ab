package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/citizen-city/chengguantong/model"
)

// Redaction keeps photos' blurred renditions (the photos' files, see
// Photos) and removes photos, originals and what links a photo to whoever
// took it.
type Redaction struct{ p *Photos }

// Redaction returns the photo redaction store.
func (db *DB) Redaction() *Redaction { return &Redaction{p: db.Photos()} }

// Redact makes full and thumb the photo's renditions. The first time, the
// original full file is kept as <id>.original (a copy: the full file keeps
// being served until the new one is renamed over it) if keepOriginal. The
// files are written before the row, so a crash leaves the blurred image
// served and the row to be brought up to date by a retry. Errors:
// not_found, unavailable.
func (s *Redaction) Redact(ctx context.Context, id string, full, thumb model.PhotoFile, keepOriginal bool) (*model.Photo, error) {
	p, err := s.p.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !isPhotoID(id) {
		return nil, missing("照片不存在")
	}
	first := p.RedactedAt.IsZero()
	var origSum, origType string
	var origSize int64
	if first && keepOriginal {
		data, err := os.ReadFile(s.p.pathOf(id, VariantFull))
		if err != nil {
			return nil, photoFileError(err, "read photo")
		}
		path := s.p.pathOf(id, model.VariantOriginal)
		if err := writeSynced(path+".tmp", data); err != nil {
			return nil, photoFileError(err, "keep original photo")
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			return nil, photoFileError(err, "keep original photo")
		}
		origSum, origType, origSize = p.SHA256, p.ContentType, int64(len(data))
	}
	for _, v := range []struct {
		name string
		data []byte
	}{{VariantFull, full.Data}, {VariantThumb, thumb.Data}} {
		path := s.p.pathOf(id, v.name)
		if err := writeSynced(path+".tmp", v.data); err != nil {
			return nil, photoFileError(err, "write photo file")
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			return nil, photoFileError(err, "write photo file")
		}
	}
	if err := syncDir(s.p.shardOf(id)); err != nil {
		return nil, photoFileError(err, "sync photo directory")
	}
	var out *model.Photo
	err = s.p.db.write(ctx, func(tx *sql.Tx) error {
		q := `UPDATE photos SET content_type = ?, size = ?, sha256 = ?, thumb_size = ?, thumb_sha256 = ?, redacted_at = ?`
		args := []any{full.ContentType, len(full.Data), full.SHA256, len(thumb.Data), thumb.SHA256, msOf(s.p.db.clockMs())}
		if first {
			q += `, has_original = ?, original_sha256 = ?, original_size = ?, original_type = ?`
			args = append(args, origSum != "", origSum, origSize, origType)
		}
		var err error
		out, err = scanPhoto(tx.QueryRowContext(ctx, q+" WHERE id = ? AND gone = 0 RETURNING "+photoColumns, append(args, id)...))
		if errors.Is(err, sql.ErrNoRows) {
			return missing("照片不存在")
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("redact photo: %w", err)
	}
	return out, nil
}

// Remove deletes a photo's files, then its row and its content check's
// trace. Errors: unavailable, internal (a file that cannot be removed).
func (s *Redaction) Remove(ctx context.Context, id string) error {
	if isPhotoID(id) {
		if err := s.p.removeFiles(id); err != nil {
			return photoFileError(err, "delete photo files")
		}
	}
	err := s.p.db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM photo_traces WHERE trace_id = (SELECT trace_id FROM photos WHERE id = ?)", id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM photos WHERE id = ?", id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete photo: %w", err)
	}
	return nil
}

// DropOriginal deletes a redacted photo's kept original. Errors:
// unavailable, internal.
func (s *Redaction) DropOriginal(ctx context.Context, id string) error {
	if isPhotoID(id) {
		if err := os.Remove(s.p.pathOf(id, model.VariantOriginal)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return photoFileError(err, "delete original photo")
		}
	}
	err := s.p.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE photos SET has_original = 0, original_sha256 = '', original_size = 0 WHERE id = ?", id)
		return err
	})
	if err != nil {
		return fmt.Errorf("drop original photo: %w", err)
	}
	return nil
}

// Disown clears a photo's owner and EXIF time and position. Errors:
// not_found, unavailable.
func (s *Redaction) Disown(ctx context.Context, id string) error {
	err := s.p.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE photos SET owner_id = '', taken_at = NULL, exif_lat = NULL, exif_lng = NULL WHERE id = ?", id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return missing("照片不存在")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("disown photo: %w", err)
	}
	return nil
}

// Owned returns up to limit ids of ownerID's photos (the partial index
// photos_by_owner). Errors: unavailable.
func (s *Redaction) Owned(ctx context.Context, ownerID string, limit int) ([]string, error) {
	if ownerID == "" {
		return nil, nil
	}
	rows, err := s.p.db.r.QueryContext(ctx, sqlOwnedPhotos, ownerID, limit)
	if err != nil {
		return nil, fmt.Errorf("owned photos: %w", translate(err))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("owned photos: %w", translate(err))
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("owned photos: %w", translate(err))
	}
	return out, nil
}

const sqlOwnedPhotos = "SELECT id FROM photos WHERE owner_id = ? AND owner_id <> '' LIMIT ?"
