package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/citizen-city/chengguantong/model"
)

// LockName is the lock file under DATA_DIR that one server process holds
// while it uses the directory.
const LockName = "server.lock"

// dirLock is an exclusive flock on DATA_DIR/server.lock, which holds the
// holder's pid. The kernel drops it when the process dies, however it dies,
// so a kill -9 never leaves the directory locked.
type dirLock struct{ f *os.File }

// lockDir takes the directory's lock, or says which process holds it.
func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid := strings.TrimSpace(string(holder))
			if pid == "" {
				pid = "未知"
			}
			return nil, model.Errorf(model.CodeUnavailable,
				"数据目录 %s 正被另一个服务进程（pid %s）使用；同一数据目录只能运行一个服务。请先停止它，或为本进程设置另一个 DATA_DIR", dir, pid)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// The pid is for the message above; a full disk must not stop a start.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dirLock{f: f}, nil
}

func (l *dirLock) release() error {
	if l.f == nil {
		return nil
	}
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	err := l.f.Close()
	l.f = nil
	return err
}

// Held reports whether a server process holds DATA_DIR now (for the
// maintenance commands, which refuse to run beside one), and its pid.
func Held(dir string) (bool, string) {
	path := filepath.Join(dir, LockName)
	f, err := os.Open(path)
	if err != nil {
		return false, ""
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		return true, strings.TrimSpace(string(b))
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false, ""
}

// cleanMark is the file a clean shutdown leaves: the database file's size
// and modification time then. A start that finds it matching skips the full
// integrity check (which reads the whole file); after a crash, or when the
// file was changed by anything but this server, the check runs.
const cleanMark = "clean-shutdown"

func (db *DB) fileStamp() string {
	fi, err := os.Stat(db.path)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d %d", fi.Size(), fi.ModTime().UnixNano())
}

// checkIntegrity refuses a damaged database: PRAGMA quick_check over the
// whole file unless the last shutdown was clean and nothing touched the
// file since, and always a read of the schema.
func (db *DB) checkIntegrity(ctx context.Context) error {
	markPath := filepath.Join(db.dir, cleanMark)
	mark, _ := os.ReadFile(markPath)
	// From here on the mark is stale whatever happens: a crash must not
	// leave a mark that vouches for a file it did not see closed.
	_ = os.Remove(markPath)
	damaged := db.damaged
	var n int
	if err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		if corrupt(err) {
			return damaged(err.Error())
		}
		return translate(fmt.Errorf("read schema: %w", err))
	}
	if n == 0 || strings.TrimSpace(string(mark)) == db.fileStamp() {
		return nil
	}
	if problems, err := integrityProblems(ctx, db.r, "PRAGMA quick_check(5)"); err != nil {
		return damaged(err.Error())
	} else if problems != "" {
		return damaged(problems)
	}
	return nil
}

// integrityProblems runs an integrity pragma (quick_check, integrity_check)
// and returns what it found wrong, "" when the database is sound.
func integrityProblems(ctx context.Context, db *sql.DB, pragma string) (string, error) {
	rows, err := db.QueryContext(ctx, pragma)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return "", err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	return strings.Join(problems, "；"), rows.Err()
}

// markClean records a clean shutdown (see cleanMark); called by Close after
// the last checkpoint.
func (db *DB) markClean() {
	_ = os.WriteFile(filepath.Join(db.dir, cleanMark), []byte(db.fileStamp()+"\n"), 0o600)
}

// damaged is the refusal of a damaged database at start-up: what is wrong,
// and how to put the last backup back.
func (db *DB) damaged(detail string) error {
	return model.Errorf(model.CodeUnavailable,
		"数据库文件 %s 已损坏（%s），服务拒绝启动以免写入更多数据。恢复方法：把数据目录整个移走保存（如 mv %s %s.damaged），再用最近的备份恢复到空的数据目录：server restore 备份文件（见 docs/operations.md），然后启动服务", db.path, detail, db.dir, db.dir)
}

// corrupt reports whether err says the database file is damaged (or not
// a database at all).
func corrupt(err error) bool {
	var se *msqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff
	return code == sqlite3.SQLITE_CORRUPT || code == sqlite3.SQLITE_NOTADB
}
