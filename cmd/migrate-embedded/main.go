// Command migrate-embedded upgrades a DATA_DIR written by the former
// embedded mode (FerretDB v1's SQLite files under DATA_DIR/ferretdb) to the
// embedded store of this version (SQLite, store/sqlite), which the server
// refuses to start without:
//
//	go run ./cmd/migrate-embedded -data-dir ./data
//
// With every server on the directory stopped, it starts FerretDB on the old
// files, reads every collection in the shapes the old store wrote them,
// writes the new store beside them keeping every id (tickets through the
// bulk path, Tickets.Load, so that the statistics count each ticket as of
// its version and case numbers follow creation order), then checks the
// new store against the old data: the count of every kind, the statistics'
// figures of every period and dimension, every ticket field by field and
// every photo's bytes. It prints a summary in Chinese and exits 0; on any
// mismatch or error it removes what it wrote and exits 1, leaving the old
// files as they were (it only reads them; FerretDB keeps on them the _id
// lookup index the old server kept too). It is its own binary: the server
// does not link FerretDB. docs/operations.md describes it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/citizen-city/chengguantong/config"
	"github.com/citizen-city/chengguantong/store/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK       = 0
	exitFailed   = 1 // a mismatch or an error: nothing was kept
	exitRefused  = 2 // the directory cannot be migrated as it is, or bad flags
	defaultBatch = 2000
)

// run is the command: flags, the refusals, the migration and its summary.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate-embedded", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", envOr("DATA_DIR", config.DefaultDataDir), "the DATA_DIR of the old embedded mode (default $DATA_DIR, else ./data)")
	database := fs.String("database", envOr("MONGODB_DATABASE", config.DefaultMongoDatabase), "the old store's database name")
	batch := fs.Int("batch", defaultBatch, "records written per transaction")
	if err := fs.Parse(args); err != nil {
		return exitRefused
	}
	if fs.NArg() > 0 || *batch < 1 {
		fmt.Fprintln(stderr, "用法：migrate-embedded [-data-dir DIR] [-database NAME] [-batch N]")
		return exitRefused
	}
	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitRefused
	}
	if err := refuse(dir); err != nil {
		fmt.Fprintln(stderr, err)
		return exitRefused
	}
	rep, err := migrate(ctx, params{dir: dir, database: *database, batch: *batch}, stdout)
	if rep != nil {
		rep.print(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "迁移未完成：%v\n已删除本次写入的新数据；旧文件 %s 未改动，服务仍会拒绝启动。\n", err, filepath.Join(dir, "ferretdb"))
		return exitFailed
	}
	return exitOK
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// stageName is the directory under DATA_DIR the new store is written in
// until it is checked: a crash mid-way leaves nothing the server would
// start on.
const stageName = ".migrate-embedded"

// refuse says why dir cannot be migrated now, if it cannot.
func refuse(dir string) error {
	old := filepath.Join(dir, "ferretdb")
	if fi, err := os.Stat(old); err != nil || !fi.IsDir() {
		return fmt.Errorf("数据目录 %s 中没有旧版嵌入式存储（%s 不存在），无需迁移", dir, old)
	}
	if held, pid := sqlite.Held(dir); held {
		return fmt.Errorf("数据目录 %s 正被服务进程（pid %s）使用：请先停止服务，再运行迁移", dir, pid)
	}
	if _, err := os.Stat(filepath.Join(dir, sqlite.FileName)); err == nil {
		return fmt.Errorf("数据目录 %s 已有新版存储 %s：已经迁移过，或新版服务已在此目录启动过。"+
			"如需重新迁移，请停止服务，移走 %s 和 %s 后再运行", dir, sqlite.FileName,
			filepath.Join(dir, sqlite.FileName), filepath.Join(dir, sqlite.PhotoDir))
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, sqlite.PhotoDir)); err == nil {
		return fmt.Errorf("数据目录 %s 中已有 %s 目录，却没有 %s：请移走它（它不是旧版写的）后再运行",
			dir, sqlite.PhotoDir, sqlite.FileName)
	}
	if held, pid := sqlite.Held(filepath.Join(dir, stageName)); held {
		return fmt.Errorf("另一个迁移进程（pid %s）正在迁移数据目录 %s", pid, dir)
	}
	return nil
}
