package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/stats"
)

func TestParsePeriod(t *testing.T) {
	now := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC) // 2026-11-26 04:00 in Shanghai
	tests := []struct {
		query    string
		from, to string // dates in Shanghai; "" for an error
		err      string
	}{
		{"", "2026-01-01", "2026-11-26", ""},
		{"from=2026-01-01&to=2026-12-31", "2026-01-01", "2026-12-31", ""},
		{"from=2026-03-05&to=2026-03-05", "2026-03-05", "2026-03-05", ""},
		{"from=2026-03-05", "2026-03-05", "2026-11-26", ""},
		{"to=2025-06-30", "2025-01-01", "2025-06-30", ""},
		{"from=2024-01-01&to=2026-12-31", "2024-01-01", "2026-12-31", ""},
		// A timestamp stands for its calendar day in China Standard Time.
		{"from=2025-12-31T16:00:00Z&to=2026-01-31T23:59:59%2B08:00", "2026-01-01", "2026-01-31", ""},
		{"from=2026-13-01", "", "", "from 必须是日期（如 2026-01-31）或 RFC 3339 时间"},
		{"to=yesterday", "", "", `to 必须是日期（如 2026-01-31）或 RFC 3339 时间，不能是 "yesterday"`},
		{"from=2026-02-01&to=2026-01-31", "", "", "from 不能晚于 to"},
		{"from=2024-01-01&to=2027-01-01", "", "", "to 与 from 相隔不能超过 3 年"},
		{"from=1900-01-01&to=1900-02-01", "", "", "from 必须是 2000 年到 2999 年之间的日期"},
	}
	e := echo.New()
	for _, tt := range tests {
		c := e.NewContext(httptest.NewRequest(http.MethodGet, "/x?"+tt.query, nil), httptest.NewRecorder())
		p, err := parsePeriodAt(c, now)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err = %v, want %q", tt.query, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.query, err)
			continue
		}
		got := p.From.Format(time.DateOnly) + " " + p.To.Format(time.DateOnly)
		if got != tt.from+" "+tt.to || p.From.Location() != shanghai || p.From.Hour() != 0 || p.To.Hour() != 0 {
			t.Errorf("%q: period %v – %v, want %s – %s at midnight in Shanghai", tt.query, p.From, p.To, tt.from, tt.to)
		}
	}
}

// exportStats is a StatsService of fixed figures.
type exportStats struct{ groups []string }

func (s *exportStats) Summary(_ context.Context, p stats.Period, groupBy string) (*stats.Summary, error) {
	s.groups = append(s.groups, groupBy)
	out := &stats.Summary{Period: p, GroupBy: groupBy, Counts: stats.Counts{Reported: 7, Registered: 5, Resolved: 4}}
	if groupBy != "" {
		out.Groups = []stats.SummaryGroup{{Key: "k", Name: "名", Counts: out.Counts}}
	}
	return out, nil
}

func (s *exportStats) PartyBuilding(_ context.Context, p stats.Period) (*stats.PartyBuilding, error) {
	return &stats.PartyBuilding{Period: p, Participations: 3}, nil
}

func (s *exportStats) Ranking(_ context.Context, p stats.Period, by string, minSample int) (*stats.Ranking, error) {
	return &stats.Ranking{Period: p, By: by, MinSample: minSample, Weights: model.DefaultRankingWeights(),
		Items:    []stats.RankingItem{{Key: "g1", Name: "一网格", Rank: 1, Score: 87.5, Sample: 12}},
		Excluded: []stats.RankingItem{{Key: "g2", Name: "二网格", Sample: 3}}}, nil
}

func TestExportServesTheWorkbook(t *testing.T) {
	stats := &exportStats{}
	h := &handlers{Deps: Deps{Stats: stats, Now: func() time.Time { return time.Date(2026, 6, 1, 12, 0, 0, 0, shanghai) }}}
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.GET("/api/v1/stats/export.xlsx", h.exportStats)

	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/stats/export.xlsx?from=2026-01-01&to=2026-12-31", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("Content-Type = %q", ct)
	}
	wantCD := `attachment; filename="chengguan-stats_2026-01-01_2026-12-31.xlsx"; filename*=UTF-8''` +
		"%E5%9F%8E%E7%AE%A1%E7%BB%9F%E8%AE%A1_2026-01-01_2026-12-31.xlsx"
	if cd := rec.Header().Get("Content-Disposition"); cd != wantCD {
		t.Errorf("Content-Disposition = %q, want %q", cd, wantCD)
	}
	if strings.Join(stats.groups, ",") != ",category,grid,source,day" {
		t.Errorf("summaries asked = %q", stats.groups)
	}
	f, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatalf("the body is no workbook: %v", err)
	}
	defer f.Close()
	for _, sheet := range []string{"按来源", "按日", "排名-网格", "排名-社区", "排名-网格员"} {
		if idx, err := f.GetSheetIndex(sheet); err != nil || idx < 0 {
			t.Errorf("no sheet %s", sheet)
		}
	}
	if v, _ := f.GetCellValue("排名-网格", "C3"); v != "一网格" {
		t.Errorf("排名-网格!C3 = %q", v)
	}
	if v, _ := f.GetCellValue("排名-网格", "A4"); !strings.Contains(v, "样本不足 10 件") {
		t.Errorf("排名-网格!A4 = %q, want the excluded units' heading", v)
	}
	if v, _ := f.GetCellValue("汇总", "A1"); v != "统计期间：2026-01-01 至 2026-12-31" {
		t.Errorf("title = %q", v)
	}
	if v, _ := f.GetCellValue("汇总", "B3"); v != "7" {
		t.Errorf("上报数 = %q", v)
	}

	// Without a period: the current year to date.
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/stats/export.xlsx", nil))
	if cd := rec.Header().Get("Content-Disposition"); rec.Code != 200 || !strings.Contains(cd, "_2026-01-01_2026-06-01.xlsx") {
		t.Errorf("default period: %d %q", rec.Code, cd)
	}

	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/stats/export.xlsx?from=2026-02-30", nil))
	var body ErrorBody
	if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &body) != nil ||
		body.Error.Code != "invalid_argument" || !strings.HasPrefix(body.Error.Message, "from ") || body.Error.Field == nil || *body.Error.Field != "from" {
		t.Errorf("bad date: %d %s, want 400 invalid_argument naming from", rec.Code, rec.Body)
	}
}
