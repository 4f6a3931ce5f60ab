package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/citizen-city/chengguantong/config"
	"github.com/citizen-city/chengguantong/store/sqlite"
)

// backupStore copies the embedded store to file: a consistent copy taken
// while the server runs (SQLite's VACUUM INTO on a read connection of its
// own, beside the server's writer). Production's MongoDB is backed up with
// its own tools (docs/operations.md).
func backupStore(ctx context.Context, cfg *config.Config, file string, out io.Writer) error {
	if cfg.Mode != config.ModeEmbedded {
		return fmt.Errorf("server backup copies the embedded store; back MongoDB up with mongodump or your provider's snapshots (docs/operations.md)")
	}
	start := time.Now()
	size, err := sqlite.BackupDir(ctx, cfg.DataDir, file)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "已备份到 %s（%.1f MB，用时 %s）；恢复：server restore %s\n", file, float64(size)/(1<<20), time.Since(start).Round(time.Millisecond), file)
	return nil
}

// restoreStore puts a backup back into an empty DATA_DIR; it refuses one
// that holds a store or that a server holds.
func restoreStore(ctx context.Context, cfg *config.Config, file string, out io.Writer) error {
	if cfg.Mode != config.ModeEmbedded {
		return fmt.Errorf("server restore restores the embedded store; restore MongoDB with mongorestore (docs/operations.md)")
	}
	if err := sqlite.Restore(ctx, file, cfg.DataDir); err != nil {
		return err
	}
	fmt.Fprintf(out, "已从 %s 恢复到 %s；现在可以启动服务\n", file, cfg.DataDir)
	return nil
}
