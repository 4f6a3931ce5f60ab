package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// Stats reads the statistics' roll-ups. Every commit adds its delta
// (model.StatsDelta) to the rollups table in its own transaction, so the
// figures are exactly once by construction: there is nothing to apply
// later, and nothing to settle.
type Stats struct{ db *DB }

// Stats returns the store's statistics.
func (db *DB) Stats() *Stats { return &Stats{db: db} }

// rollupColumns is the number of counter columns of rollups (c0..c22).
const rollupColumns = 23

var (
	counterList = func() string {
		cols := make([]string, rollupColumns)
		for i := range cols {
			cols[i] = "c" + strconv.Itoa(i)
		}
		return strings.Join(cols, ", ")
	}()
	sqlRollupAdd  = rollupAdd(1<<rollupColumns - 1)
	sqlRollupRead = "SELECT key, " + counterList + " FROM rollups WHERE dim = ? AND period = ? ORDER BY key"
)

// A counter added to the model needs a column of rollups (a migration)
// first: these fail to compile unless the counts agree.
var (
	_ [rollupColumns - model.NumCounters]struct{}
	_ [model.NumCounters - rollupColumns]struct{}
)

// rollupAdd is the upsert that adds the counters of mask (bit i: ci) to a
// row: binding only the counters a delta changes (most rows change one to
// three) costs far less than binding all of them.
func rollupAdd(mask uint32) string {
	var cols, set []string
	for i := range rollupColumns {
		if mask&(1<<i) != 0 {
			c := "c" + strconv.Itoa(i)
			cols = append(cols, c)
			set = append(set, c+" = "+c+" + excluded."+c)
		}
	}
	return "INSERT INTO rollups (dim, period, key, " + strings.Join(cols, ", ") + ") VALUES (?, ?, ?" + strings.Repeat(", ?", len(cols)) +
		") ON CONFLICT (dim, period, key) DO UPDATE SET " + strings.Join(set, ", ")
}

// rollupMask says which counters of v are not zero.
func rollupMask(v *model.RollupValues) uint32 {
	var mask uint32
	for i, x := range v {
		if x != 0 {
			mask |= 1 << i
		}
	}
	return mask
}

// rollupStatements are the upserts addRollups runs for rows.
func rollupStatements(rows []model.RollupRow) []string {
	seen := map[uint32]bool{}
	var out []string
	for i := range rows {
		if m := rollupMask(&rows[i].Values); m != 0 && !seen[m] {
			seen[m] = true
			out = append(out, rollupAdd(m))
		}
	}
	return out
}

// addRollups adds rows to the roll-ups and records when (Stats.UpdatedAt).
func addRollups(w *txw, rows []model.RollupRow, at time.Time) error {
	args := make([]any, 0, 3+rollupColumns)
	for _, r := range rows {
		var mask uint32
		args = append(args[:0], r.Dim, r.Period, r.Key)
		for i, v := range r.Values {
			if v != 0 {
				mask |= 1 << i
				args = append(args, v)
			}
		}
		if mask == 0 {
			continue
		}
		if _, err := w.exec(rollupAdd(mask), args...); err != nil {
			return err
		}
	}
	_, err := w.exec(sqlStatsAt, strconv.FormatInt(at.UnixMilli(), 10))
	return err
}

// Read returns the rows of dimension dim in each period bucket given, in
// that order, each bucket's rows in key order; keys whose counters are all
// zero are left out. Errors: unavailable.
func (s *Stats) Read(ctx context.Context, dim string, periods []string) ([]model.RollupRow, error) {
	var out []model.RollupRow
	conn, err := s.db.r.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("read statistics: %w", translate(err))
	}
	defer conn.Close()
	stmt, err := conn.PrepareContext(ctx, sqlRollupRead)
	if err != nil {
		return nil, fmt.Errorf("read statistics: %w", translate(err))
	}
	defer stmt.Close()
	dest := make([]any, 1+rollupColumns)
	for _, p := range periods {
		rows, err := stmt.QueryContext(ctx, dim, p)
		if err != nil {
			return nil, fmt.Errorf("read statistics: %w", translate(err))
		}
		for rows.Next() {
			r := model.RollupRow{Period: p, Dim: dim}
			dest[0] = &r.Key
			for i := range rollupColumns {
				dest[1+i] = &r.Values[i]
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read statistics: %w", translate(err))
			}
			if r.Values != (model.RollupValues{}) {
				out = append(out, r)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("read statistics: %w", translate(err))
		}
	}
	return out, nil
}

// UpdatedAt is when a transition was last counted (zero if never).
// Errors: unavailable.
func (s *Stats) UpdatedAt(ctx context.Context) (time.Time, error) {
	var v string
	err := s.db.r.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'stats_updated_at'").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("statistics updated at: %w", translate(err))
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("statistics updated at %q: %w", v, err)
	}
	return time.UnixMilli(ms).UTC(), nil
}

// Settle returns at once: a commit counts itself in its own transaction.
func (s *Stats) Settle(ctx context.Context) error { return nil }

// Rebuild recomputes every roll-up as the sum of model.Contribute over the
// tickets at version 1 or more, and replaces the table, in one write
// transaction (commits wait meanwhile, so none is lost or counted twice).
// It returns how many tickets it read. Errors: unavailable.
func (s *Stats) Rebuild(ctx context.Context) (int, error) {
	read := 0
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		sum, n, err := sumContributions(ctx, tx)
		if err != nil {
			return err
		}
		read = n
		if _, err := tx.ExecContext(ctx, "DELETE FROM rollups"); err != nil {
			return err
		}
		rows := sum.Rows()
		slices.SortFunc(rows, func(a, b model.RollupRow) int {
			return cmp.Or(cmp.Compare(a.Dim, b.Dim), cmp.Compare(a.Period, b.Period), cmp.Compare(a.Key, b.Key))
		})
		var values [][]any
		for _, r := range rows {
			if r.Values == (model.RollupValues{}) {
				continue
			}
			v := make([]any, 3+rollupColumns)
			v[0], v[1], v[2] = r.Dim, r.Period, r.Key
			for i, x := range r.Values {
				v[3+i] = x
			}
			values = append(values, v)
		}
		if len(values) == 0 {
			return nil
		}
		return insertMany(s.db.txw(ctx, tx), "INSERT INTO rollups (dim, period, key, "+counterList+") VALUES (?, ?, ?"+strings.Repeat(", ?", rollupColumns)+")", values)
	})
	if err != nil {
		return 0, fmt.Errorf("rebuild statistics: %w", err)
	}
	return read, nil
}

// sumContributions reads every ticket and sums the contributions of those
// past version 0, decoding and counting on every core.
func sumContributions(ctx context.Context, tx *sql.Tx) (model.Contribution, int, error) {
	rows, err := tx.QueryContext(ctx, "SELECT doc FROM ticket_docs")
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	workers := max(1, runtime.GOMAXPROCS(0))
	batches := make(chan [][]byte, workers)
	sums := make([]sums, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		sums[w] = newSums()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range batches {
				for _, doc := range batch {
					t, err := decodeTicket(doc)
					if err != nil {
						if errs[w] == nil {
							errs[w] = err
						}
						continue
					}
					if t.Version > 0 {
						sums[w].add(model.Contribute(t))
					}
				}
			}
		}()
	}
	n := 0
	batch := make([][]byte, 0, 256)
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			close(batches)
			wg.Wait()
			return nil, 0, err
		}
		batch = append(batch, doc)
		n++
		if len(batch) == cap(batch) {
			batches <- batch
			batch = make([][]byte, 0, 256)
		}
	}
	if len(batch) > 0 {
		batches <- batch
	}
	close(batches)
	wg.Wait()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if err := errors.Join(errs...); err != nil {
		return nil, 0, err
	}
	for _, c := range sums[1:] {
		sums[0].merge(c)
	}
	return sums[0].contribution(), n, nil
}

// sums adds up contributions in place: a key's counters are looked up
// once and added to where they lie (Contribution.Add copies each key's 21
// counters out of the map and back).
type sums map[model.RollupKey]*model.RollupValues

func newSums() sums { return sums{} }

func (s sums) add(c model.Contribution) {
	for k, v := range c {
		p := s[k]
		if p == nil {
			p = new(model.RollupValues)
			s[k] = p
		}
		for i := range v {
			p[i] += v[i]
		}
	}
}

func (s sums) merge(o sums) {
	for k, v := range o {
		p := s[k]
		if p == nil {
			s[k] = v
			continue
		}
		for i := range v {
			p[i] += v[i]
		}
	}
}

func (s sums) contribution() model.Contribution {
	c := make(model.Contribution, len(s))
	for k, v := range s {
		c[k] = *v
	}
	return c
}
