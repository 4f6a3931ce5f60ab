package mongodb

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

func randomRows(rng *rand.Rand, n int) []model.RollupRow {
	rows := make([]model.RollupRow, n)
	for i := range rows {
		rows[i].Key = fmt.Sprintf("3201%011d", rng.IntN(1_000_000_000))
		for c := range rows[i].Values {
			if rng.IntN(3) == 0 {
				continue // some counters zero
			}
			rows[i].Values[c] = float64(rng.IntN(100_000) - 10)
		}
		rows[i].Values[model.CounterHours] = rng.Float64() * 1e5
	}
	return rows
}

func decodeAll(t *testing.T, raw []byte, ordered bool) map[string]model.RollupValues {
	t.Helper()
	got := map[string]model.RollupValues{}
	prev := ""
	err := decodeRollup(raw, nil, func(key string, v *model.RollupValues) {
		if ordered && key <= prev && prev != "" {
			t.Errorf("key %q after %q: not in order", key, prev)
		}
		prev = key
		got[key] = *v
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRollupEncodingRoundTrips(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 20, 5000} {
		rows := randomRows(rng, n)
		want := map[string]model.RollupValues{}
		for _, r := range rows {
			want[r.Key] = r.Values
		}
		raw := encodeRollup(rows)
		if format := raw[0]; (n < 100) != (format == rollupFormat1) || (n >= 100) != (format == rollupFormat2) {
			t.Errorf("%d keys: format %d", n, format)
		}
		got := decodeAll(t, raw, true)
		if len(got) != len(want) {
			t.Fatalf("%d keys: decoded %d", n, len(got))
		}
		for k, w := range want {
			if got[k] != w { // exact, hours included
				t.Fatalf("%d keys: %s = %v, want %v", n, k, got[k], w)
			}
		}
	}
}

func TestRollupDecodingRefusesCorruptInput(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{3, 2000} {
		raw := encodeRollup(randomRows(rng, n))
		for cut := 1; cut < len(raw); cut += 1 + cut/8 {
			err := decodeRollup(raw[:cut], nil, func(string, *model.RollupValues) {})
			if !errors.Is(err, errRollupEncoding) {
				t.Fatalf("%d keys cut at %d of %d: %v, want a corrupt encoding", n, cut, len(raw), err)
			}
		}
	}
	for _, raw := range [][]byte{{0x01, 0xff}, {0x02, 0x05, 0x00}, []byte(`{"g":{"nope":1}}`), []byte(`{`)} {
		if err := decodeRollup(raw, nil, func(string, *model.RollupValues) {}); !errors.Is(err, errRollupEncoding) {
			t.Errorf("%q: %v, want a corrupt encoding", raw, err)
		}
	}
}

// A transition's delta (its rows over every period and dimension, with
// negative counts) packs and unpacks to the same rows.
func TestDeltaRoundTrips(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 25, 9, 30, 0, 0, model.ChinaTime())
	before := &model.Ticket{ID: "t1", Category: "0101", GridCode: "g1", Community: "c1", Status: model.StatusResolved,
		Version: 3, CreatedAt: at, RegisteredAt: at, DueAt: at.Add(48 * time.Hour), AssigneeID: "w1",
		Resolution: &model.Resolution{ResolvedAt: at.Add(5 * time.Hour)}}
	after := *before
	after.Status = model.StatusInProgress
	after.Resolution = nil
	after.Timeline = []model.Event{{At: at.Add(6 * time.Hour), Type: model.EventReopened, Status: model.StatusInProgress, AssigneeID: "w1"}}
	want := model.StatsDelta(before, &after)
	if len(want) == 0 {
		t.Fatal("the delta is empty; the test tests nothing")
	}
	got := model.Contribution{}
	if err := decodeDelta(encodeDelta(want.Rows()), func(r model.RollupRow) {
		got[model.RollupKey{Period: r.Period, Dim: r.Dim, Key: r.Key}] = r.Values
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%v = %v, want %v", k, got[k], v)
		}
	}
}
