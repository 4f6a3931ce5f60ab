package audit

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/citizen-city/chengguantong/model"
)

// memStore is the trail in memory, newest last.
type memStore struct {
	entries []model.AuditEntry
	fail    error
}

func (m *memStore) Append(_ context.Context, e *model.AuditEntry) error {
	if m.fail != nil {
		return m.fail
	}
	e.ID = e.At.String()
	m.entries = append(m.entries, *e)
	return nil
}

func (m *memStore) List(_ context.Context, q model.AuditQuery, _ string, limit int) ([]model.AuditEntry, string, error) {
	var out []model.AuditEntry
	for i := len(m.entries) - 1; i >= 0 && len(out) < limit; i-- {
		if e := m.entries[i]; q.Action == "" || e.Action == q.Action {
			out = append(out, e)
		}
	}
	return out, "", nil
}

func (m *memStore) Prune(_ context.Context, before time.Time, limit int) (int, error) {
	n := 0
	var kept []model.AuditEntry
	for _, e := range m.entries {
		if e.At.Before(before) && n < limit {
			n++
			continue
		}
		kept = append(kept, e)
	}
	m.entries = kept
	return n, nil
}

func newTrail(st *memStore, now time.Time) *Trail {
	return New(st, 24*time.Hour, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// TestRecordNamesTheSource: an entry names who the request's context says
// acted and from where; RecordAs names someone else from the same address;
// a failed write is an error for Write and only a log line for Record.
func TestRecordNamesTheSource(t *testing.T) {
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	st := &memStore{}
	tr := newTrail(st, now)
	ctx := WithSource(context.Background(), Source{ActorID: "s1", ActorName: "王五", IP: "198.51.100.7"})
	tr.Record(ctx, model.ActionPeopleChange, "w1", "新增网格员")
	tr.RecordAs(ctx, "", "ghost", model.ActionLoginFailed, "ghost", "密码错误")
	if len(st.entries) != 2 {
		t.Fatalf("entries: %+v", st.entries)
	}
	a, b := st.entries[0], st.entries[1]
	if a.ActorID != "s1" || a.ActorName != "王五" || a.IP != "198.51.100.7" || !a.At.Equal(now) || a.Target != "w1" {
		t.Errorf("first entry %+v", a)
	}
	if b.ActorID != "" || b.ActorName != "ghost" || b.IP != "198.51.100.7" || b.Action != model.ActionLoginFailed {
		t.Errorf("second entry %+v", b)
	}
	st.fail = errors.New("disk full")
	if err := tr.Write(ctx, model.ActionIdentityReveal, "T1", "来电人"); err == nil {
		t.Errorf("Write on a failing store succeeded")
	}
	tr.Record(ctx, model.ActionExport, "工单", "导出") // logged, not returned
}

// TestListAndExport: a bad action or range is refused naming the field;
// the export is a workbook of the entries, and is itself recorded.
func TestListAndExport(t *testing.T) {
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	st := &memStore{}
	tr := newTrail(st, now)
	ctx := WithSource(context.Background(), Source{ActorID: "a1", ActorName: "审计", IP: "10.0.0.1"})
	tr.Record(ctx, model.ActionIdentityReveal, "20261207-0001", "查看了工单的来电人姓名、电话")
	_, _, err := tr.List(ctx, model.AuditQuery{Action: "bogus"}, "", 10)
	if me, ok := errors.AsType[*model.Error](err); !ok || me.Field != "action" {
		t.Errorf("a bad action: %v", err)
	}
	_, _, err = tr.List(ctx, model.AuditQuery{From: now, To: now.Add(-time.Hour)}, "", 10)
	if me, ok := errors.AsType[*model.Error](err); !ok || me.Field != "to" {
		t.Errorf("a backwards range: %v", err)
	}
	var buf bytes.Buffer
	if err := tr.Export(ctx, model.AuditQuery{}, "操作 identity.reveal", &buf); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("访问留痕")
	if err != nil || len(rows) != 3 || !strings.Contains(rows[2][6], "来电人") || rows[2][7] != "10.0.0.1" {
		t.Fatalf("the workbook: %v %v", rows, err)
	}
	last := st.entries[len(st.entries)-1]
	if last.Action != model.ActionExport || last.Target != "访问留痕" || !strings.Contains(last.Detail, "1 条") {
		t.Errorf("the export is not recorded: %+v", last)
	}
}

// TestPrune removes the entries past the retention period, in batches.
func TestPrune(t *testing.T) {
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	st := &memStore{}
	for i := range 2500 {
		st.entries = append(st.entries, model.AuditEntry{At: now.Add(-48 * time.Hour).Add(time.Duration(i) * time.Second)})
	}
	st.entries = append(st.entries, model.AuditEntry{At: now.Add(-time.Hour)})
	n, err := newTrail(st, now).Prune(context.Background())
	if err != nil || n != 2500 || len(st.entries) != 1 {
		t.Fatalf("Prune = %d, %v; %d left", n, err, len(st.entries))
	}
}
