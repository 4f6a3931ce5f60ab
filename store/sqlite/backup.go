package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/citizen-city/chengguantong/model"
)

// Backup writes a consistent copy of the database to path (which must not
// exist) while the server runs: VACUUM INTO reads one snapshot of the WAL
// database, as any reader does, so commits go on meanwhile and none is half
// in the copy. The copy is written beside path and renamed into place once
// complete, so path never holds half a backup. Errors: invalid_argument
// (path exists), unavailable (a full disk: nothing is left at path).
func (db *DB) Backup(ctx context.Context, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Stat(abs); err == nil {
		return model.Invalid("backup", "文件 %s 已存在；请指定一个新的备份文件名", abs)
	}
	tmp := abs + ".partial"
	_ = os.Remove(tmp)
	conn, err := db.r.Conn(ctx)
	if err != nil {
		return fmt.Errorf("backup: %w", translate(err))
	}
	defer conn.Close()
	// A reader connection is query_only; VACUUM INTO writes only the new
	// file, which the pragma would refuse all the same.
	if _, err := conn.ExecContext(ctx, "PRAGMA query_only = 0"); err != nil {
		return fmt.Errorf("backup: %w", translate(err))
	}
	_, err = conn.ExecContext(ctx, "VACUUM INTO ?", tmp)
	// The connection goes back to no pool writable: it is closed.
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("backup to %s: %w", abs, translate(err))
	}
	if err := syncFile(tmp); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("backup to %s: %w", abs, fileError(err))
	}
	if err := os.Rename(tmp, abs); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("backup to %s: %w", abs, err)
	}
	return nil
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
	if err := checkBackup(ctx, backupFile); err != nil {
		return err
	}
	dst := filepath.Join(abs, FileName)
	tmp := dst + ".partial"
	if err := copyFile(backupFile, tmp); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("restore: %w", fileError(err))
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("restore: %w", err)
	}
	return nil
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
	rows, err := b.QueryContext(ctx, "PRAGMA integrity_check(5)")
	if err != nil {
		return damaged(err.Error())
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return damaged(err.Error())
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return damaged(err.Error())
	}
	if len(problems) > 0 {
		return damaged(strings.Join(problems, "；"))
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
