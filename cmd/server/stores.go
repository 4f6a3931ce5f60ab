package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/citizen-city/chengguantong/config"
	"github.com/citizen-city/chengguantong/handler"
	"github.com/citizen-city/chengguantong/store"
	"github.com/citizen-city/chengguantong/store/mongodb"
	"github.com/citizen-city/chengguantong/store/redis"
	"github.com/citizen-city/chengguantong/store/sqlite"
)

// stores are what one process opens: the record (an engine of the store
// contract) and Redis.
type stores struct {
	store.Engine
	redis *redis.Redis
	// ready are the dependencies /readyz pings, by name.
	ready map[string]handler.Pinger
	// run is the engine's own background work (MongoDB's statistics
	// applier), nil if none.
	run func(ctx context.Context)
	// signals wake other instances (and this one); locks are Redis leases.
	signals *redis.Signals
	locks   *redis.Locks
	close   []func()
}

// Close closes everything opened, last first.
func (s *stores) Close() {
	for i := len(s.close) - 1; i >= 0; i-- {
		s.close[i]()
	}
}

// openStores opens the embedded store (SQLite under DATA_DIR and an
// in-process Redis) or the production one (MongoDB and Redis).
func openStores(ctx context.Context, cfg *config.Config, instance string, now func() time.Time, opt options, logger *slog.Logger) (*stores, error) {
	s := &stores{ready: map[string]handler.Pinger{}}
	redisURL := cfg.RedisURL
	if cfg.Mode == config.ModeEmbedded {
		if err := refuseFerretDBDir(cfg.DataDir); err != nil {
			return nil, err
		}
		db, err := sqlite.Open(ctx, cfg.DataDir, sqlite.Options{Instance: instance, Now: now, Readers: cfg.SQLiteReaders, Logger: logger})
		if err != nil {
			return nil, err
		}
		s.close = append(s.close, func() { _ = db.Close() })
		s.Engine = db.Engine()
		s.ready["sqlite"] = db
		inproc, err := redis.StartInProcess()
		if err != nil {
			s.Close()
			return nil, err
		}
		s.close = append(s.close, inproc.Close)
		redisURL = inproc.URL
		logger.Warn("EMBEDDED SINGLE-MACHINE MODE: the record is SQLite under DATA_DIR; an in-process Redis and the WeChat simulator run inside this process. Set MONGODB_URI and REDIS_URL for production",
			"data_dir", cfg.DataDir)
	}
	rdb, err := redis.OpenRedis(ctx, redisURL, cfg.RedisKeyPrefix)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.close = append(s.close, func() { _ = rdb.Close() })
	s.redis = rdb
	s.ready["redis"] = rdb
	s.signals, s.locks = redis.NewSignals(rdb), redis.NewLocks(rdb)
	if cfg.Mode == config.ModeProduction {
		eng, err := openMongo(ctx, cfg, rdb, s, instance, now, opt, logger)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.Engine = eng
	}
	return s, nil
}

// refuseFerretDBDir refuses a DATA_DIR written by the embedded mode of
// earlier versions (FerretDB on SQLite), which this version cannot read, and
// says what to run.
func refuseFerretDBDir(dir string) error {
	old := filepath.Join(dir, "ferretdb")
	if _, err := os.Stat(old); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, sqlite.FileName)); err == nil {
		return nil // migrated: the old files are left for the operator to remove
	}
	abs, _ := filepath.Abs(dir)
	return fmt.Errorf("数据目录 %s 是旧版嵌入式存储（FerretDB，%s），本版本不再直接读取。"+
		"请先停止服务，再运行：go run ./cmd/migrate-embedded -data-dir %s"+
		"（读取旧数据写入新的 SQLite 存储，并核对工单件数和统计数字；旧文件保留不动）", abs, old, abs)
}

// openMongo opens the production store: MongoDB, its indexes, and the
// statistics applier (started as the engine's background work).
func openMongo(ctx context.Context, cfg *config.Config, rdb *redis.Redis, s *stores, instance string, now func() time.Time,
	opt options, logger *slog.Logger) (store.Engine, error) {
	m, err := mongodb.OpenMongo(ctx, cfg.MongoURI, cfg.MongoDatabase, mongodb.MongoOptions{Monitor: opt.mongoMonitor, SlowMS: cfg.MongoSlowMS})
	if err != nil {
		return store.Engine{}, err
	}
	s.close = append(s.close, func() { _ = m.Close(context.Background()) })
	s.ready["mongodb"] = m
	if err := m.EnsureIndexes(ctx); err != nil {
		return store.Engine{}, err
	}
	tickets := mongodb.NewTickets(m, instance, now)
	stats := mongodb.NewStats(m, mongodb.StatsDeps{Tickets: tickets, Lease: s.locks, Wakeups: s.signals, Cache: rdb,
		Owner: instance, Look: cfg.Periods.Stats, Now: now, Logger: logger})
	s.run = stats.Run
	photos := mongodb.NewPhotos(m, now)
	return store.Engine{
		Name:          "mongodb",
		Tickets:       tickets,
		Stats:         stats,
		Users:         mongodb.NewUsers(m, now),
		Invites:       mongodb.NewInvites(m, now),
		People:        mongodb.NewPeople(m, now),
		Categories:    mongodb.NewCategories(m, now),
		Grids:         mongodb.NewGrids(m, now),
		Photos:        photos,
		Activities:    mongodb.NewActivities(m, now),
		APIKeys:       mongodb.NewAPIKeys(m),
		Submitters:    mongodb.NewOpen311Submitters(m),
		Notifications: mongodb.NewNotifications(m, now),
		Subscriptions: mongodb.NewSubscriptions(m, now),
		Addresses:     mongodb.NewAddresses(m),
		Layers:        mongodb.NewLayers(m, now),
		Staff:         mongodb.NewStaff(m, now),
		Trail:         mongodb.NewTrail(m, now),
		Privacy:       mongodb.NewPrivacy(m, tickets, now),
		Redaction:     mongodb.NewRedaction(photos),
	}, nil
}
