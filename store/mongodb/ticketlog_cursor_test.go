package mongodb_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/mongodb"
)

// cursorWorld is a ticket store whose commits are marked, as
// Tickets.Update does once wired, and a cursor over it.
type cursorWorld struct {
	t       *testing.T
	m       *mongodb.Mongo
	tickets *mongodb.Tickets
	cursor  *mongodb.StatsCursor
	now     time.Time
}

func newCursorWorld(t *testing.T, marked bool) *cursorWorld {
	w := &cursorWorld{t: t, m: testenv.Mongo(t), now: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return w.now }
	w.tickets = mongodb.NewTickets(w.m, clock)
	w.cursor = mongodb.NewStatsCursor(w.m, marked, clock)
	return w
}

func (w *cursorWorld) insert() *model.Ticket {
	w.t.Helper()
	tk := newTicket(w.now)
	if err := w.tickets.Insert(context.Background(), tk, "t:"+tk.ID, "h"); err != nil {
		w.t.Fatal(err)
	}
	return tk
}

// commit marks and commits tk's next version, unless mark is false.
func (w *cursorWorld) commit(tk *model.Ticket, mark bool) {
	w.t.Helper()
	ctx := context.Background()
	w.now = w.now.Add(time.Minute)
	if mark {
		if err := w.cursor.MarkPending(ctx, tk.ID, tk.Version+1, w.now); err != nil {
			w.t.Fatal(err)
		}
	}
	tk.Reporters++ // any change
	if err := w.tickets.Update(ctx, tk); err != nil {
		w.t.Fatal(err)
	}
}

// count runs the applier's loop over the cursor alone and returns the
// entries in the order counted.
func (w *cursorWorld) count(applied int64) []string {
	w.t.Helper()
	ctx := context.Background()
	var got []string
	for {
		e, err := w.cursor.PendingEntry(ctx, applied, true)
		if err != nil {
			w.t.Fatal(err)
		}
		if e == nil {
			return got
		}
		if e.Seq == 0 {
			if err := w.cursor.NumberEntry(ctx, e.ID, applied+1); err != nil {
				w.t.Fatal(err)
			}
		}
		applied++
		got = append(got, e.ID)
		if err := w.cursor.DoneEntry(ctx, e.ID); err != nil {
			w.t.Fatal(err)
		}
	}
}

func logIDOf(tk *model.Ticket, v int) string { return fmt.Sprintf("%s/%d", tk.ID, v) }

func (w *cursorWorld) marks() int64 {
	w.t.Helper()
	n, err := w.m.Database().Collection("stats_pending").CountDocuments(context.Background(), bson.M{})
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

func TestStatsCursorFindsEveryMarkedTransitionOnceInVersionOrder(t *testing.T) {
	t.Parallel()
	w := newCursorWorld(t, true)
	if got := w.count(0); len(got) != 0 { // and the one-time scan is done
		t.Fatalf("counted %v in an empty log", got)
	}
	a, b, c := w.insert(), w.insert(), w.insert()
	w.commit(a, true)
	w.commit(b, true)
	w.commit(a, true)
	w.commit(c, false) // its mark lost: found through its next version
	w.commit(c, true)
	w.commit(a, true)
	got := w.count(0)
	want := []string{logIDOf(a, 1), logIDOf(b, 1), logIDOf(a, 2), logIDOf(c, 1), logIDOf(c, 2), logIDOf(a, 3)}
	if len(got) != len(want) {
		t.Fatalf("counted %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("counted %v, want %v", got, want)
		}
	}
	if again := w.count(6); len(again) != 0 || w.marks() != 0 {
		t.Fatalf("counted again %v, %d marks left", again, w.marks())
	}

	// A counted entry's mark left behind (a crash before DoneEntry) is
	// dropped, not counted again.
	if err := w.cursor.MarkPending(context.Background(), a.ID, 2, w.now); err != nil {
		t.Fatal(err)
	}
	if again := w.count(6); len(again) != 0 || w.marks() != 0 {
		t.Fatalf("counted again %v, %d marks left", again, w.marks())
	}
}

func TestStatsCursorDropsOrphanMarksAfterAnHour(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newCursorWorld(t, true)
	a := w.insert()
	// Its writer died between the mark and the commit.
	if err := w.cursor.MarkPending(ctx, a.ID, 1, w.now); err != nil {
		t.Fatal(err)
	}
	if got := w.count(0); len(got) != 0 || w.marks() != 1 {
		t.Fatalf("counted %v, %d marks; want nothing and the mark kept", got, w.marks())
	}
	w.now = w.now.Add(2 * time.Hour)
	if got := w.count(0); len(got) != 0 || w.marks() != 0 {
		t.Fatalf("counted %v, %d marks; want nothing and no mark", got, w.marks())
	}
}

func TestStatsCursorResumesTheEntryCutShort(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newCursorWorld(t, true)
	a, b := w.insert(), w.insert()
	w.commit(a, true)
	w.commit(b, true)
	e, err := w.cursor.PendingEntry(ctx, 0, true)
	if err != nil || e == nil {
		t.Fatalf("pending: %v %v", e, err)
	}
	if err := w.cursor.NumberEntry(ctx, e.ID, 1); err != nil {
		t.Fatal(err)
	}
	// The applier died here. The next one takes the same entry, numbered.
	again, err := w.cursor.PendingEntry(ctx, 0, true)
	if err != nil || again == nil || again.ID != e.ID || again.Seq != 1 {
		t.Fatalf("after a crash: %+v, %v; want %s numbered 1", again, err, e.ID)
	}
	// Another applier giving number 1 to another entry is a conflict.
	other := logIDOf(b, 1)
	if e.ID == other {
		other = logIDOf(a, 1)
	}
	if err := w.cursor.NumberEntry(ctx, other, 1); !errors.Is(err, model.ErrConflict) {
		t.Fatalf("number 1 twice: %v, want a conflict", err)
	}
}

// Entries written before marking began — counted, cut short, not yet
// counted — are taken up where they were, after one scan.
func TestStatsCursorTakesUpTheLogWrittenBeforeMarking(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newCursorWorld(t, true)
	a, b := w.insert(), w.insert()
	for range 3 {
		w.commit(a, false)
	}
	w.commit(b, false)
	w.commit(b, false)
	// As the applier before StatsCursor left them: a/1 and a/2 counted,
	// a/3 numbered 3 but cut short.
	log := w.m.Database().Collection("ticket_log")
	for id, seq := range map[string]int64{logIDOf(a, 1): 1, logIDOf(a, 2): 2, logIDOf(a, 3): 3} {
		if _, err := log.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"seq": seq}}); err != nil {
			t.Fatal(err)
		}
	}
	got := w.count(2)
	want := []string{logIDOf(a, 3), logIDOf(b, 1), logIDOf(b, 2)}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("counted %v, want %v", got, want)
	}
	// Later commits are marked as usual.
	w.commit(a, true)
	if got := w.count(5); len(got) != 1 || got[0] != logIDOf(a, 4) {
		t.Fatalf("then counted %v", got)
	}
}

// Until commits are marked, the cursor finds new entries by a query on
// ticket_log, in version order too.
func TestStatsCursorScansWhileCommitsAreNotMarked(t *testing.T) {
	t.Parallel()
	w := newCursorWorld(t, false)
	a, b := w.insert(), w.insert()
	w.commit(a, false)
	w.commit(b, false)
	w.commit(a, false)
	got := w.count(0)
	if len(got) != 3 || got[0] != logIDOf(a, 1) || got[1] != logIDOf(b, 1) || got[2] != logIDOf(a, 2) {
		t.Fatalf("counted %v", got)
	}
	if w.marks() != 0 {
		t.Fatalf("%d marks written while not marking", w.marks())
	}
}
