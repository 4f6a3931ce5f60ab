package sqlite

import (
	"archive/tar"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/citizen-city/chengguantong/model"
)

// Backup writes a backup of the store to path: see BackupDir.
func (db *DB) Backup(ctx context.Context, path string) error {
	_, err := BackupDir(ctx, db.dir, path)
	return err
}

// BackupDir writes a backup of the store under dataDir to path (which must
// not exist), while a server runs on it: an archive (tar) of a consistent
// copy of the database — VACUUM INTO on a read connection of its own, one
// snapshot of the WAL database as any reader sees it, so commits go on
// meanwhile and none is half in the copy — followed by the photos' files.
// Photos are copied after the snapshot, so every photo the copy names is
// in the archive (a newer one without its row is swept after a restore).
// The archive is written beside path and renamed into place once complete,
// so path never holds half a backup. It returns the archive's size.
// Errors: invalid_argument (path exists, no store under dataDir),
// unavailable (a full disk: nothing is left at path).
func BackupDir(ctx context.Context, dataDir, path string) (int64, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Stat(abs); err == nil {
		return 0, model.Invalid("backup", "文件 %s 已存在；请指定一个新的备份文件名", abs)
	}
	dbPath := filepath.Join(dataDir, FileName)
	if _, err := os.Stat(dbPath); err != nil {
		return 0, model.Invalid("data_dir", "%s 下没有本服务的数据库（%s）", dataDir, FileName)
	}
	snapshot := abs + ".db.partial"
	tmp := abs + ".partial"
	_ = os.Remove(snapshot)
	_ = os.Remove(tmp)
	defer os.Remove(snapshot)
	if err := vacuumInto(ctx, dbPath, snapshot); err != nil {
		return 0, fmt.Errorf("backup to %s: %w", abs, err)
	}
	size, err := writeArchive(snapshot, filepath.Join(dataDir, PhotoDir), tmp)
	if err != nil {
		_ = os.Remove(tmp)
		return 0, fmt.Errorf("backup to %s: %w", abs, fileError(err))
	}
	if err := os.Rename(tmp, abs); err != nil {
		_ = os.Remove(tmp)
		return 0, fmt.Errorf("backup to %s: %w", abs, err)
	}
	return size, nil
}

// vacuumInto writes a consistent copy of the database at dbPath to dst
// through a connection of its own (the server's lock is not needed: SQLite
// lets a reader beside the writer).
func vacuumInto(ctx context.Context, dbPath, dst string) error {
	src, err := sql.Open("sqlite", dsn(dbPath))
	if err != nil {
		return err
	}
	defer src.Close()
	src.SetMaxOpenConns(1)
	if _, err := src.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return translate(err)
	}
	return nil
}

// Inside a backup archive: the database, then the photos under photos/.
const archiveDB = FileName

// writeArchive writes the tar archive of the database snapshot and the
// photos' files to dst, synced, and returns its size.
func writeArchive(snapshot, photoDir, dst string) (int64, error) {
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	tw := tar.NewWriter(out)
	add := func(path, name string) error {
		f, err := os.Open(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil // swept meanwhile: an unused upload
		}
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		return err
	}
	if err := add(snapshot, archiveDB); err != nil {
		return 0, err
	}
	err = filepath.WalkDir(photoDir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil || d.IsDir() || strings.HasSuffix(d.Name(), ".tmp") {
			return err
		}
		rel, err := filepath.Rel(photoDir, path)
		if err != nil {
			return err
		}
		return add(path, PhotoDir+"/"+filepath.ToSlash(rel))
	})
	if err != nil {
		return 0, err
	}
	if err := tw.Close(); err != nil {
		return 0, err
	}
	if err := out.Sync(); err != nil {
		return 0, err
	}
	fi, err := out.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// fileError is a file system error as the store answers it: a full disk
// is unavailable with the storage-full message.
func fileError(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return model.Wrap(model.CodeUnavailable, err, msgStorageFull)
	}
	return err
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Restore puts a backup (a file Backup wrote) in place as the database of
// dataDir, which must be empty (or hold only an unheld lock file) and not
// in use by a server. It checks the backup's integrity first and copies it
// in whole or not at all. Errors: invalid_argument (a non-empty directory,
// a backup that is damaged or not this store's), unavailable (a server
// holds the directory).
func Restore(ctx context.Context, backupFile, dataDir string) error {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	lock, err := lockDir(abs)
	if err != nil {
		return err // held by a server: its message names the pid
	}
	defer lock.release()
	entries, err := os.ReadDir(abs)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	var present []string
	for _, e := range entries {
		if e.Name() != LockName {
			present = append(present, e.Name())
		}
	}
	if len(present) > 0 {
		return model.Invalid("data_dir", "数据目录 %s 不是空的（有 %s）；恢复只写入空的数据目录，以免覆盖现有数据。请换一个空目录，或先把它移走", abs, strings.Join(present, "、"))
	}
	dst := filepath.Join(abs, FileName)
	tmp := dst + ".partial"
	if err := unpack(backupFile, abs, tmp); err != nil {
		_ = os.Remove(tmp)
		_ = os.RemoveAll(filepath.Join(abs, PhotoDir))
		return err
	}
	if err := checkBackup(ctx, tmp); err != nil {
		_ = os.Remove(tmp)
		_ = os.RemoveAll(filepath.Join(abs, PhotoDir))
		return err
	}
	if err := syncFile(tmp); err != nil {
		return fmt.Errorf("restore: %w", fileError(err))
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}

// unpack writes the backup's database to dbTmp and its photos under
// dataDir/photos. A backup that is a bare database file (no archive) is
// copied as it is.
func unpack(backupFile, dataDir, dbTmp string) error {
	in, err := os.Open(backupFile)
	if err != nil {
		return model.Invalid("backup", "备份文件 %s 无法读取：%v", backupFile, err)
	}
	defer in.Close()
	tr := tar.NewReader(in)
	h, err := tr.Next()
	if err != nil || h.Name != archiveDB {
		// Not an archive of ours: a bare database (checked next) or junk.
		if err := copyFile(backupFile, dbTmp); err != nil {
			return fmt.Errorf("restore: %w", fileError(err))
		}
		return nil
	}
	for ; err == nil; h, err = tr.Next() {
		var dst string
		switch {
		case h.Name == archiveDB:
			dst = dbTmp
		case strings.HasPrefix(h.Name, PhotoDir+"/") && !strings.Contains(h.Name, ".."):
			dst = filepath.Join(dataDir, filepath.FromSlash(h.Name))
		default:
			return model.Invalid("backup", "备份文件 %s 含有不属于本服务的条目 %q", backupFile, h.Name)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return fmt.Errorf("restore: %w", fileError(err))
		}
		if err := writeFile(dst, tr); err != nil {
			return fmt.Errorf("restore: %w", fileError(err))
		}
	}
	if !errors.Is(err, io.EOF) {
		return model.Invalid("backup", "备份文件 %s 不完整或已损坏：%v", backupFile, err)
	}
	return nil
}

func writeFile(dst string, r io.Reader) error {
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// checkBackup refuses a file that is not a sound database of this store.
func checkBackup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return model.Invalid("backup", "备份文件 %s 无法读取：%v", path, err)
	}
	b, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=query_only(1)")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer b.Close()
	damaged := func(detail string) error {
		return model.Invalid("backup", "备份文件 %s 不可用（%s）；请换一个备份", path, detail)
	}
	var version int
	if err := b.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return damaged(err.Error())
	}
	var tickets int
	if err := b.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE name = 'tickets'").Scan(&tickets); err != nil {
		return damaged(err.Error())
	}
	if version == 0 || tickets == 0 {
		return damaged("不是本服务的数据库备份")
	}
	if problems, err := integrityProblems(ctx, b, "PRAGMA integrity_check(5)"); err != nil {
		return damaged(err.Error())
	} else if problems != "" {
		return damaged(problems)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return writeFile(dst, in)
}
