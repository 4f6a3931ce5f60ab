// Package mongodb is the production store: MongoDB (a replica set or a
// sharded cluster) keeps the record, and implements the contract of
// store/storetest. It translates driver errors into model errors at its
// edge; nothing above it knows a driver.
//
// Every query keeps to the subset FerretDB v1 supports, on which the tests
// run it: single-document atomic updates with preconditions, no
// transactions, no nested arrays, no TTL or geo indexes — and on FerretDB a
// conditional update is not even atomic, so every decision that must have
// one winner is a unique insert (docs/consistency.md).
package mongodb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/citizen-city/chengguantong/model"
)

// Mongo is a connected database.
type Mongo struct {
	client *mongo.Client
	db     *mongo.Database
	// ferret says the server is FerretDB (the tests'), whose conditional
	// writes are not atomic: the few answers that MongoDB gives in one
	// atomic write take a second look there.
	ferret bool
}

// MongoOptions are what a caller may add to a connection.
type MongoOptions struct {
	// Monitor, when set, sees every command the connection sends (the
	// command-counting benchmark passes one).
	Monitor *event.CommandMonitor
	// SlowMS, when positive, prints every command slower than this many
	// milliseconds to stderr, with its collection and filter keys
	// (MONGODB_SLOW_MS, a diagnostic).
	SlowMS int
}

// OpenMongo connects to uri and selects database name. It fails with
// unavailable when the server does not answer within the context's deadline.
func OpenMongo(ctx context.Context, uri, name string, extra ...MongoOptions) (*Mongo, error) {
	opts := options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(5 * time.Second).
		SetConnectTimeout(5 * time.Second).
		SetAppName("chengguantong")
	var monitors []*event.CommandMonitor
	for _, x := range extra {
		if x.SlowMS > 0 {
			monitors = append(monitors, slowCommands(time.Duration(x.SlowMS)*time.Millisecond))
		}
		if x.Monitor != nil {
			monitors = append(monitors, x.Monitor)
		}
	}
	if len(monitors) > 0 {
		opts.SetMonitor(joinMonitors(monitors))
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("connect mongodb: %w", err)
	}
	m := &Mongo{client: client, db: client.Database(name)}
	if err := m.Ping(ctx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("connect mongodb: %w", err)
	}
	var info bson.M
	if err := m.db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("connect mongodb: %w", translate(err))
	}
	_, m.ferret = info["ferretdbVersion"]
	return m, nil
}

// joinMonitors is one monitor that calls each of ms in turn.
func joinMonitors(ms []*event.CommandMonitor) *event.CommandMonitor {
	if len(ms) == 1 {
		return ms[0]
	}
	return &event.CommandMonitor{
		Started: func(ctx context.Context, e *event.CommandStartedEvent) {
			for _, m := range ms {
				if m.Started != nil {
					m.Started(ctx, e)
				}
			}
		},
		Succeeded: func(ctx context.Context, e *event.CommandSucceededEvent) {
			for _, m := range ms {
				if m.Succeeded != nil {
					m.Succeeded(ctx, e)
				}
			}
		},
		Failed: func(ctx context.Context, e *event.CommandFailedEvent) {
			for _, m := range ms {
				if m.Failed != nil {
					m.Failed(ctx, e)
				}
			}
		},
	}
}

// slowCommands is a diagnostic (MONGODB_SLOW_MS): it prints to stderr
// every command slower than min, with its collection and filter shape.
func slowCommands(min time.Duration) *event.CommandMonitor {
	var started sync.Map
	return &event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			shape := e.CommandName
			if coll, ok := e.Command.Lookup(e.CommandName).StringValueOK(); ok {
				shape += " " + coll
			}
			for _, f := range []string{"filter", "q", "query"} {
				if v, err := e.Command.LookupErr(f); err == nil {
					if doc, ok := v.DocumentOK(); ok {
						keys, _ := doc.Elements()
						for _, k := range keys {
							shape += " " + k.Key()
						}
					}
				}
			}
			if u, err := e.Command.LookupErr("updates"); err == nil {
				if arr, ok := u.ArrayOK(); ok {
					vals, _ := arr.Values()
					if len(vals) > 0 {
						if q, err := vals[0].Document().LookupErr("q"); err == nil {
							keys, _ := q.Document().Elements()
							for _, k := range keys {
								shape += " q." + k.Key()
							}
						}
					}
				}
			}
			started.Store(e.RequestID, shape)
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
			shape, _ := started.LoadAndDelete(e.RequestID)
			if e.Duration >= min {
				fmt.Fprintf(os.Stderr, "slow mongo command %v: %v\n", e.Duration.Round(time.Millisecond), shape)
			}
		},
		Failed: func(_ context.Context, e *event.CommandFailedEvent) { started.Delete(e.RequestID) },
	}
}

// Ping checks that the database answers.
func (m *Mongo) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := m.db.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		return model.Wrap(model.CodeUnavailable, err, "数据库暂时不可用，请稍后重试")
	}
	return nil
}

// Close disconnects.
func (m *Mongo) Close(ctx context.Context) error { return m.client.Disconnect(ctx) }

// Database exposes the database handle to the store's own collections.
func (m *Mongo) Database() *mongo.Database { return m.db }

// Drop deletes the whole database; tests use it to leave nothing behind.
func (m *Mongo) Drop(ctx context.Context) error { return m.db.Drop(ctx) }

// translate turns a driver error into a model error at the store's edge.
func translate(err error) error {
	var me *model.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &me):
		return err // translated already
	case errors.Is(err, mongo.ErrNoDocuments):
		return model.Wrap(model.CodeNotFound, err, "记录不存在")
	case mongo.IsDuplicateKeyError(err):
		return model.Wrap(model.CodeConflict, err, "记录已存在")
	case mongo.IsTimeout(err), mongo.IsNetworkError(err), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, mongo.ErrClientDisconnected):
		return model.Wrap(model.CodeUnavailable, err, "数据库暂时不可用，请稍后重试")
	}
	var sel topology.ServerSelectionError
	if errors.As(err, &sel) {
		return model.Wrap(model.CodeUnavailable, err, "数据库暂时不可用，请稍后重试")
	}
	return model.Wrap(model.CodeInternal, err, "数据库出错")
}

// NewID returns a new opaque id.
func NewID() string { return model.NewID(time.Now()) }

// findAll runs a find on c and converts every document it returns; what
// names the query in errors.
func findAll[D, M any](ctx context.Context, c *mongo.Collection, what string, conv func(*D) M, filter any, opts ...options.Lister[options.FindOptions]) ([]M, error) {
	cur, err := c.Find(ctx, filter, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, translate(err))
	}
	var docs []D
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("%s: %w", what, translate(err))
	}
	out := make([]M, len(docs))
	for i := range docs {
		out[i] = conv(&docs[i])
	}
	return out, nil
}

// timeRange is a filter on a time field from from (inclusive) to to, with
// upper the operator of the end ("$lt" or "$lte"); nil when both are zero.
func timeRange(from, to time.Time, upper string) bson.M {
	r := bson.M{}
	if !from.IsZero() {
		r["$gte"] = from.UTC()
	}
	if !to.IsZero() {
		r[upper] = to.UTC()
	}
	if len(r) == 0 {
		return nil
	}
	return r
}

// msClock is now at MongoDB's precision (a date is whole milliseconds):
// what the store stamps is what it reads back.
func msClock(now func() time.Time) func() time.Time {
	if now == nil {
		now = time.Now
	}
	return func() time.Time { return now().Truncate(time.Millisecond) }
}
