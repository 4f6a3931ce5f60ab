package mongodb_test

import (
	"testing"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/store/mongodb"
	"github.com/citizen-city/chengguantong/store/redis"
	"github.com/citizen-city/chengguantong/store/storetest"
)

// TestConformance runs the store suite against MongoDB (the embedded
// FerretDB, or MONGODB_URI): a fresh database and Redis key prefix per
// test, shared by its named instances as by server processes.
func TestConformance(t *testing.T) {
	storetest.Run(t, openEngine)
}

func openEngine(stb storetest.TB) func(instance string) storetest.Engine {
	tb := stb.(testing.TB)
	tb.Helper()
	m := testenv.Mongo(tb)
	r := testenv.Redis(tb)
	lease, wakeups := redis.NewLocks(r), redis.NewSignals(r)
	return func(instance string) storetest.Engine {
		e, _ := m.Engine(mongodb.Options{Instance: instance, Lease: lease, Wakeups: wakeups, Cache: r})
		return e
	}
}
