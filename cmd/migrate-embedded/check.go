package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/sqlite"
)

// report is what a migration did and found, printed at the end.
type report struct {
	dir        string
	kinds      []kindCount
	mismatches []string
	warnings   []string

	statsDims, statsPeriods, statsRows int
	tickets, photos, photoFiles        int
	deletingPhotos                     int // photos being deleted, not copied
	rolledForward                      int // tickets behind their log, rolled forward
	uncounted                          int // tickets whose latest version the old statistics had not counted

	wrote, checked, total time.Duration
	done                  bool
}

// kindCount is one kind's count in the old data and in the new store.
type kindCount struct {
	label    string
	old, new int64
}

func (r *report) warn(format string, args ...any) {
	r.warnings = append(r.warnings, fmt.Sprintf(format, args...))
}

func (r *report) mismatch(format string, args ...any) {
	r.mismatches = append(r.mismatches, fmt.Sprintf(format, args...))
}

// maxListed bounds the mismatches and warnings printed.
const maxListed = 30

func printList(w io.Writer, title string, xs []string) {
	if len(xs) == 0 {
		return
	}
	fmt.Fprintln(w, title)
	for i, x := range xs {
		if i == maxListed {
			fmt.Fprintf(w, "  ……另有 %d 条\n", len(xs)-maxListed)
			break
		}
		fmt.Fprintln(w, "  - "+x)
	}
}

// print writes the summary in Chinese.
func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\n数据目录：%s\n", r.dir)
	if len(r.kinds) > 0 {
		fmt.Fprintln(w, "件数核对（旧 → 新）：")
		for _, k := range r.kinds {
			mark := "一致"
			if k.old != k.new {
				mark = "不一致"
			}
			fmt.Fprintf(w, "  %s：%d → %d，%s\n", k.label, k.old, k.new, mark)
		}
		fmt.Fprintf(w, "统计核对：%d 个维度 × %d 个时段（日、月、年），%d 行数字与按旧工单重算的结果比较\n", r.statsDims, r.statsPeriods, r.statsRows)
		fmt.Fprintf(w, "工单逐字段核对：%d 件；照片字节核对：%d 张照片、%d 个文件\n", r.tickets, r.photos, r.photoFiles)
	}
	var notes []string
	if r.rolledForward > 0 {
		notes = append(notes, fmt.Sprintf("%d 件工单的日志中有已提交、但旧服务未写回工单的变更，已按日志补上（旧服务下次修改时也会这样做）", r.rolledForward))
	}
	if r.uncounted > 0 {
		notes = append(notes, fmt.Sprintf("旧统计尚未计入 %d 件工单的最新变更（旧服务停止前统计没有追上）；新统计已按工单当前的版本计入", r.uncounted))
	}
	if r.deletingPhotos > 0 {
		notes = append(notes, fmt.Sprintf("%d 张照片在旧服务中正被删除（未被任何工单使用），未迁移", r.deletingPhotos))
	}
	printList(w, "说明：", append(notes, r.warnings...))
	printList(w, "不一致：", r.mismatches)
	if !r.done {
		return
	}
	fmt.Fprintf(w, "用时：写入 %s，核对 %s，共 %s\n", r.wrote.Round(time.Millisecond), r.checked.Round(time.Millisecond), r.total.Round(time.Millisecond))
	fmt.Fprintf(w, "迁移完成：新存储 %s/%s，照片在 %s/%s。旧文件保留在 %s/ferretdb，新服务运行无误后可以删除。\n",
		r.dir, sqlite.FileName, r.dir, sqlite.PhotoDir, r.dir)
	fmt.Fprintf(w, "启动服务：DATA_DIR=%s go run ./cmd/server\n", r.dir)
}

// check compares the new store with what was read of the old one: the
// count of every kind, the statistics, every photo's bytes. (Every ticket
// and its history were compared field by field as its batch was loaded.)
func (m *migration) check(ctx context.Context) error {
	got, err := m.db.Count(ctx)
	if err != nil {
		return err
	}
	o := m.oldCounts
	for _, k := range []kindCount{
		{"工单", o.Tickets, got.Tickets},
		{"微信用户", o.Users, got.Users},
		{"员工账号", o.Staff, got.Staff},
		{"网格员", o.Workers, got.Workers},
		{"党支部", o.Branches, got.Branches},
		{"在职党员", o.PartyMembers, got.PartyMembers},
		{"档案绑定的微信用户", o.ProfileLinks, got.ProfileLinks},
		{"手机号占用", o.PhoneClaims, got.PhoneClaims},
		{"邀请码", o.Invites, got.Invites},
		{"已使用的邀请码", o.InvitesUsed, got.InvitesUsed},
		{"事件类别", o.Categories, got.Categories},
		{"网格", o.Grids, got.Grids},
		{"照片", o.Photos, got.Photos},
		{"照片文件", o.PhotoFiles, got.PhotoFiles},
		{"内容检查", o.PhotoTraces, got.PhotoTraces},
		{"先到的检查结果", o.MediaVerdicts, got.MediaVerdicts},
		{"党员活动", o.Activities, got.Activities},
		{"活动签到", o.Checkins, got.Checkins},
		{"Open311 密钥", o.APIKeys, got.APIKeys},
		{"Open311 提交人", o.Submitters, got.Submitters},
		{"订阅消息额度", o.Allowances, got.Allowances},
		{"订阅消息记录", o.Notifications, got.Notifications},
	} {
		m.rep.kinds = append(m.rep.kinds, k)
		if k.old != k.new {
			m.rep.mismatch("%s：旧数据 %d，新存储 %d", k.label, k.old, k.new)
		}
	}
	if err := m.checkStats(ctx); err != nil {
		return err
	}
	return m.checkPhotos(ctx)
}

// checkStats compares the new store's statistics (Stats.Read, every period
// bucket it or the old tickets have, every dimension) with the sum of
// model.Contribute over the old tickets as loaded.
func (m *migration) checkStats(ctx context.Context) error {
	want := map[model.RollupKey]model.RollupValues{}
	periodSet := map[string]bool{}
	dims := []string{model.DimAll, model.DimCategory, model.DimGrid, model.DimCommunity, model.DimWorker, model.DimMember, model.DimSource}
	for k, v := range m.expected {
		if v == (model.RollupValues{}) {
			continue
		}
		want[k] = v
		periodSet[k.Period] = true
		if !slices.Contains(dims, k.Dim) {
			dims = append(dims, k.Dim)
		}
	}
	stored, err := m.db.RollupPeriods(ctx)
	if err != nil {
		return err
	}
	for _, p := range stored {
		periodSet[p] = true
	}
	periods := make([]string, 0, len(periodSet))
	for p := range periodSet {
		periods = append(periods, p)
	}
	slices.Sort(periods)
	rows := 0
	for _, dim := range dims {
		got := map[model.RollupKey]model.RollupValues{}
		rs, err := m.db.Stats().Read(ctx, dim, periods)
		if err != nil {
			return err
		}
		for _, r := range rs {
			got[model.RollupKey{Period: r.Period, Dim: r.Dim, Key: r.Key}] = r.Values
		}
		keys := map[model.RollupKey]bool{}
		for k := range got {
			keys[k] = true
		}
		for k := range want {
			if k.Dim == dim {
				keys[k] = true
			}
		}
		sorted := make([]model.RollupKey, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		slices.SortFunc(sorted, func(a, b model.RollupKey) int {
			return strings.Compare(a.Period+"\x00"+a.Key, b.Period+"\x00"+b.Key)
		})
		for _, k := range sorted {
			rows++
			w, g := want[k], got[k]
			var diffs []string
			for i := range w {
				if !agree(w[i], g[i]) {
					diffs = append(diffs, fmt.Sprintf("%s 应为 %v，新存储为 %v", model.CounterName(i), w[i], g[i]))
				}
			}
			if len(diffs) > 0 {
				m.rep.mismatch("统计 %s/%s/%s：%s", k.Period, k.Dim, k.Key, strings.Join(diffs, "；"))
			}
		}
	}
	m.rep.statsDims, m.rep.statsPeriods, m.rep.statsRows = len(dims), len(periods), rows
	return nil
}

// agree says whether two counters agree: exactly for counts, to a
// millionth for sums of hours (added in another order).
func agree(a, b float64) bool {
	return math.Abs(a-b) <= 1e-6*max(1, math.Abs(a), math.Abs(b))
}

// checkPhotos reads back every file of every photo copied and compares its
// SHA-256 with that of the bytes read from the old store; a file the old
// store lacked must be missing in the new one too.
func (m *migration) checkPhotos(ctx context.Context) error {
	ids := make([]string, 0, len(m.photoSums))
	for id := range m.photoSums {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	photos := m.db.Photos()
	for _, id := range ids {
		m.rep.photos++
		for i, variant := range []string{sqlite.VariantFull, sqlite.VariantThumb} {
			want := m.photoSums[id][i]
			r, _, _, err := photos.Open(ctx, id, variant)
			if errors.Is(err, model.ErrNotFound) {
				if want != "" {
					m.rep.mismatch("照片 %s 的%s在新存储中缺失", id, variantName(variant))
				}
				continue
			}
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, r)
			r.Close()
			if err != nil {
				return fmt.Errorf("read photo %s %s: %w", id, variant, err)
			}
			m.rep.photoFiles++
			switch sum := hex.EncodeToString(h.Sum(nil)); {
			case want == "":
				m.rep.mismatch("照片 %s 的%s在旧数据中没有，新存储中却有", id, variantName(variant))
			case sum != want:
				m.rep.mismatch("照片 %s 的%s字节与旧数据不同", id, variantName(variant))
			}
		}
	}
	return nil
}

func variantName(v string) string {
	if v == sqlite.VariantThumb {
		return "缩略图"
	}
	return "原图"
}

// compareTicket compares a ticket as read from the old store (rolled
// forward, with its case number) with what the new store returns, field by
// field.
func (m *migration) compareTicket(ctx context.Context, want *model.Ticket, history []model.TicketVersion) error {
	got, err := m.db.Tickets().Get(ctx, want.ID)
	if errors.Is(err, model.ErrNotFound) {
		m.rep.mismatch("工单 %s 在新存储中缺失", want.ID)
		return nil
	}
	if err != nil {
		return err
	}
	m.rep.tickets++
	if diff := ticketDiff(want, got); len(diff) > 0 {
		m.rep.mismatch("工单 %s（%s）字段不一致：%s", want.ID, want.CaseNo, strings.Join(diff, "、"))
	}
	h, err := m.db.Tickets().History(ctx, want.ID, want.Version)
	if err != nil {
		return err
	}
	if len(h) != len(history) || (len(h) > 0 && !reflect.DeepEqual(h, history)) {
		m.rep.mismatch("工单 %s（%s）的变更记录不一致：旧数据 %d 个版本，新存储 %d 个", want.ID, want.CaseNo, len(history), len(h))
	}
	return nil
}

// ticketDiff names the fields of model.Ticket in which a and b differ,
// taking an empty list and none, and two representations of one instant,
// as equal.
func ticketDiff(a, b *model.Ticket) []string {
	x, y := normTicket(*a), normTicket(*b)
	vx, vy := reflect.ValueOf(x), reflect.ValueOf(y)
	var out []string
	for i := range vx.NumField() {
		if !reflect.DeepEqual(vx.Field(i).Interface(), vy.Field(i).Interface()) {
			out = append(out, vx.Type().Field(i).Name)
		}
	}
	return out
}

func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

func normStrings(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	return ss
}

// normTicket is t with empty lists nil and times in one representation.
func normTicket(t model.Ticket) model.Ticket {
	t.PhotoIDs, t.Followers, t.MergedIDs = normStrings(t.PhotoIDs), normStrings(t.Followers), normStrings(t.MergedIDs)
	t.ReturnedBy, t.PhotoFlags = normStrings(t.ReturnedBy), normStrings(t.PhotoFlags)
	t.RegisteredAt, t.DueAt, t.AcceptBy, t.DeferredAt = normTime(t.RegisteredAt), normTime(t.DueAt), normTime(t.AcceptBy), normTime(t.DeferredAt)
	t.CreatedAt, t.UpdatedAt = normTime(t.CreatedAt), normTime(t.UpdatedAt)
	if r := t.Resolution; r != nil {
		c := *r
		c.PhotoIDs, c.ResolvedAt = normStrings(c.PhotoIDs), normTime(c.ResolvedAt)
		t.Resolution = &c
	}
	if f := t.Feedback; f != nil {
		c := *f
		c.At = normTime(c.At)
		t.Feedback = &c
	}
	if x := t.Extension; x != nil {
		c := *x
		c.RequestedAt, c.DecidedAt = normTime(c.RequestedAt), normTime(c.DecidedAt)
		t.Extension = &c
	}
	if len(t.Timeline) == 0 {
		t.Timeline = nil
	} else {
		tl := make([]model.Event, len(t.Timeline))
		for i, e := range t.Timeline {
			e.At = normTime(e.At)
			tl[i] = e
		}
		t.Timeline = tl
	}
	return t
}
