package stats

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

func TestNearlyWan(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0个"},
		{1, "1个"},
		{1234, "1234个"},
		{9999, "9999个"},
		{10000, "1万个"},
		{10001, "近1.1万个"},
		{10999, "近1.1万个"},
		{11000, "1.1万个"},
		{12000, "1.2万个"},
		{12345, "近1.3万个"},
		{19001, "近2万个"},
		{19999, "近2万个"},
		{20000, "2万个"},
		{99999, "近10万个"},
		{123456, "近12.4万个"},
		{1234567, "近123.5万个"},
	}
	for _, tt := range tests {
		if got := nearlyWan(tt.n, "个"); got != tt.want {
			t.Errorf("nearlyWan(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if got := nearlyWan(15678, "人次"); got != "近1.6万人次" {
		t.Errorf("nearlyWan(15678, 人次) = %q", got)
	}
}

func TestNearlyTens(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0次"},
		{7, "7次"},
		{99, "99次"},
		{100, "100次"},
		{101, "近110次"},
		{120, "120次"},
		{123, "近130次"},
		{995, "近1000次"},
		{9981, "近9990次"},
		{9991, "近1万次"},
		{10000, "1万次"},
		{12345, "近1.3万次"},
	}
	for _, tt := range tests {
		if got := nearlyTens(tt.n, "次"); got != tt.want {
			t.Errorf("nearlyTens(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// reportStats is a Reader of fixed figures that records the periods
// it was asked for.
type reportStats struct {
	summary *Summary
	party   *PartyBuilding
	err     error
	asked   []Period
}

func (r *reportStats) Summary(_ context.Context, p Period, groupBy string) (*Summary, error) {
	r.asked = append(r.asked, p)
	if groupBy != "" {
		return nil, errors.New("the report needs no groups")
	}
	return r.summary, r.err
}

func (r *reportStats) PartyBuilding(_ context.Context, p Period) (*PartyBuilding, error) {
	r.asked = append(r.asked, p)
	return r.party, r.err
}

func TestBureauFigures(t *testing.T) {
	stats := &reportStats{
		summary: &Summary{Counts: Counts{Resolved: 12345}},
		party: &PartyBuilding{ResolvedWithPartyMembers: 2345, Participations: 15678, DistinctMembers: 321,
			Activities: 123, ActivitiesByKind: map[string]int64{"volunteer": 100, "theme": 20, "joint_enforcement": 3},
			ActivityParticipations: 4567},
	}
	f, err := BureauFigures(context.Background(), stats, 2026)
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, model.ChinaTime())
	to := time.Date(2026, 12, 31, 0, 0, 0, 0, model.ChinaTime())
	for _, p := range stats.asked {
		if !p.From.Equal(from) || !p.To.Equal(to) {
			t.Fatalf("asked for %v – %v, want the calendar year 2026 in China Standard Time", p.From, p.To)
		}
	}
	if f.Resolved != 12345 || f.Participations != 15678 || f.DistinctMembers != 321 || f.Activities != 123 ||
		f.ActivitiesByKind["volunteer"] != 100 || f.ActivityParticipations != 4567 || f.ResolvedWithPartyMembers != 2345 {
		t.Fatalf("figures = %+v", f)
	}
	want := "2026年，以在职党员“报到服务进小区”为载体，采取“智慧平台＋网格员＋微信随手拍”综合治理方式，" +
		"帮助解决小区居民身边问题近1.3万个，其中在职党员参与解决2345个。" +
		"开展各类志愿服务、主题实践、联合执法服务近130次，参与党员近1.6万人次，共321名在职党员参与。"
	if got := f.Text(); got != want {
		t.Fatalf("Text =\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(f.Text(), "*") {
		t.Fatal("a placeholder is left")
	}

	// A quiet year still reads as a sentence.
	quiet := Figures{Year: 2025}
	if got := quiet.Text(); !strings.Contains(got, "身边问题0个。") || !strings.Contains(got, "服务0次，参与党员0人次，共0名") {
		t.Fatalf("quiet year: %s", got)
	}

	if _, err := BureauFigures(context.Background(), stats, 26); !errors.Is(err, model.ErrInvalidArgument) {
		t.Fatalf("year 26: %v, want invalid_argument", err)
	}
	boom := &reportStats{err: model.Errorf(model.CodeUnavailable, "down")}
	if _, err := BureauFigures(context.Background(), boom, 2026); !errors.Is(err, model.ErrUnavailable) {
		t.Fatalf("stats down: %v, want unavailable", err)
	}
}

func TestChannelText(t *testing.T) {
	figures := []SourceFigures{{Source: "patrol", Name: "网格员巡查", Registered: 12345, Resolved: 12000},
		{Source: "wechat", Name: "微信随手拍", Registered: 555, Resolved: 500}, {Source: "open311", Name: "Open311 接口"}}
	want := "2026年立案问题按来源：网格员巡查近1.3万件（占95.7%，已解决12000件），微信随手拍555件（占4.3%，已解决500件）。"
	if got := ChannelText(2026, figures); got != want {
		t.Errorf("ChannelText = %q\nwant %q", got, want)
	}
	if got := ChannelText(2026, nil); got != "" {
		t.Errorf("nothing registered: %q", got)
	}
}
