// Package audit is the access trail (访问留痕): who read a reporter's or a
// caller's identity, who exported what, who changed people, accounts, keys
// and settings, who redacted a photo, which logins failed — when, and from
// which address. Entries are appended, never changed; only auditors read
// them, and they go after the retention period (AUDIT_RETENTION_DAYS).
//
// The HTTP edge puts who is calling and from where into each request's
// context (WithSource); Record reads it, so that a service or a wrapper
// around one records an action with one call and no extra parameters.
package audit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/workbook"
)

// Store keeps the trail (store.Trail).
type Store interface {
	Append(ctx context.Context, e *model.AuditEntry) error
	List(ctx context.Context, q model.AuditQuery, cursor string, limit int) ([]model.AuditEntry, string, error)
	Prune(ctx context.Context, before time.Time, limit int) (int, error)
}

// Source is who is calling and from where, as the HTTP edge resolved it.
type Source struct {
	ActorID   string
	ActorName string
	IP        string
}

type sourceKey struct{}

// WithSource returns ctx carrying s.
func WithSource(ctx context.Context, s Source) context.Context {
	return context.WithValue(ctx, sourceKey{}, s)
}

// SourceOf returns the source ctx carries (zero if none).
func SourceOf(ctx context.Context) Source {
	s, _ := ctx.Value(sourceKey{}).(Source)
	return s
}

// Trail records and reads the access trail.
type Trail struct {
	store  Store
	keep   time.Duration
	now    func() time.Time
	logger *slog.Logger
}

// New returns the trail over store, keeping entries for keep.
func New(store Store, keep time.Duration, now func() time.Time, logger *slog.Logger) *Trail {
	return &Trail{store: store, keep: keep, now: now, logger: logger}
}

// Write records action on target with detail, as the source in ctx. Use it
// where the action must not happen unrecorded (showing an identity): the
// caller acts only once it returned nil. Errors: unavailable.
func (t *Trail) Write(ctx context.Context, action model.AuditAction, target, detail string) error {
	s := SourceOf(ctx)
	e := model.AuditEntry{At: t.now(), ActorID: s.ActorID, ActorName: s.ActorName, Action: action, Target: target,
		Detail: detail, IP: s.IP}
	if err := t.store.Append(context.WithoutCancel(ctx), &e); err != nil {
		return fmt.Errorf("record %s: %w", action, err)
	}
	return nil
}

// Record records an action already done: a failure to write is logged (with
// what was not recorded) and does not undo it.
func (t *Trail) Record(ctx context.Context, action model.AuditAction, target, detail string) {
	if err := t.Write(ctx, action, target, detail); err != nil {
		s := SourceOf(ctx)
		t.logger.ErrorContext(ctx, "access trail entry lost", "action", action, "target", target, "actor", s.ActorID,
			"error", err.Error())
	}
}

// RecordAs records an action of someone the context does not name (a
// failed login: the username tried).
func (t *Trail) RecordAs(ctx context.Context, actorID, actorName string, action model.AuditAction, target, detail string) {
	s := SourceOf(ctx)
	s.ActorID, s.ActorName = actorID, actorName
	t.Record(WithSource(ctx, s), action, target, detail)
}

// MaxPage is the largest page List returns.
const MaxPage = 100

// List returns a page of the trail, newest first. Errors:
// invalid_argument (the cursor, a range whose end is before its start).
func (t *Trail) List(ctx context.Context, q model.AuditQuery, cursor string, limit int) ([]model.AuditEntry, string, error) {
	if err := check(q); err != nil {
		return nil, "", err
	}
	return t.store.List(ctx, q, cursor, min(max(limit, 1), MaxPage))
}

func check(q model.AuditQuery) error {
	if q.Action != "" && !q.Action.Valid() {
		names := make([]string, len(model.AuditActions))
		for i, a := range model.AuditActions {
			names[i] = string(a)
		}
		return model.Invalid("action", "%q 不是留痕的操作类型；可选 %s", q.Action, strings.Join(names, "、"))
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return model.Invalid("to", "结束时间早于开始时间")
	}
	return nil
}

// MaxExportRows bounds one export of the trail.
const MaxExportRows = 50000

// Export writes the entries matching q (at most MaxExportRows, newest
// first) as an .xlsx workbook to w, and records the export itself. Errors:
// invalid_argument (q; more entries than MaxExportRows), unavailable.
func (t *Trail) Export(ctx context.Context, q model.AuditQuery, filter string, w io.Writer) error {
	if err := check(q); err != nil {
		return err
	}
	var rows [][]any
	cursor := ""
	for first := true; first || cursor != ""; first = false {
		page, next, err := t.store.List(ctx, q, cursor, MaxPage)
		if err != nil {
			return err
		}
		for _, e := range page {
			rows = append(rows, []any{e.At.In(model.ChinaTime()).Format("2006-01-02 15:04:05"), e.ActorName, e.ActorID,
				e.Action.Label(), string(e.Action), e.Target, e.Detail, e.IP})
		}
		if len(rows) > MaxExportRows {
			return model.Invalid("to", "符合条件的留痕超过 %d 条；请缩小时间范围（from、to）或增加筛选条件", MaxExportRows)
		}
		cursor = next
	}
	f := excelize.NewFile()
	defer f.Close()
	title := "访问留痕 " + t.now().In(model.ChinaTime()).Format("2006-01-02 15:04")
	if filter != "" {
		title += "（" + filter + "）"
	}
	book, err := workbook.New(f, title)
	if err != nil {
		return fmt.Errorf("export the access trail: %w", err)
	}
	if err := book.Sheet("访问留痕", workbook.Table{
		Headers: []string{"时间", "操作人", "操作人账号", "操作", "操作代码", "对象", "详情", "来源地址"},
		Rows:    rows, FrozenCols: 1,
	}); err != nil {
		return fmt.Errorf("export the access trail: %w", err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return fmt.Errorf("export the access trail: %w", err)
	}
	if err := t.Write(ctx, model.ActionExport, "访问留痕", fmt.Sprintf("导出访问留痕 %d 条；筛选：%s", len(rows), orAll(filter))); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func orAll(filter string) string {
	if filter == "" {
		return "全部"
	}
	return filter
}

// pruneBatch bounds one pass of Prune.
const pruneBatch = 1000

// Prune removes the entries older than the retention period and returns
// how many. Errors: unavailable.
func (t *Trail) Prune(ctx context.Context) (int, error) {
	cutoff := t.now().Add(-t.keep)
	total := 0
	for {
		n, err := t.store.Prune(ctx, cutoff, pruneBatch)
		total += n
		if err != nil || n < pruneBatch {
			return total, err
		}
	}
}
