package stats

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// Reader is the statistics the bureau's report is written from.
type Reader interface {
	Summary(ctx context.Context, p Period, groupBy string) (*Summary, error)
	PartyBuilding(ctx context.Context, p Period) (*PartyBuilding, error)
}

// Figures are the numbers of one calendar year that the bureau's annual
// party-building report (seed-report.zh.txt) leaves as "*".
type Figures struct {
	Year   int
	Period Period
	// Resolved is every issue resolved in the year — "帮助解决小区居民身边
	// 问题近*万个". The report credits the whole approach ("智慧平台＋网格员
	// ＋微信随手拍" with the party members), so this is all resolved
	// tickets, not only those with a party member.
	Resolved int64
	// ResolvedWithPartyMembers are the resolved issues a party member took
	// part in.
	ResolvedWithPartyMembers int64
	// Participations are party members' 人次 — ticket participations and
	// activity check-ins together — "参与党员*万人次".
	Participations int64
	// DistinctMembers counts the party members with at least one
	// participation.
	DistinctMembers int64
	// Activities are the activities of every kind that started in the year —
	// "各类志愿服务、主题实践、联合执法服务近***次" names all three kinds —
	// with ActivitiesByKind splitting them.
	Activities       int64
	ActivitiesByKind map[string]int64
	// ActivityParticipations are the check-ins to those activities.
	ActivityParticipations int64
}

// YearPeriod is the calendar year in China Standard Time: 1 January to 31
// December, both included.
func YearPeriod(year int) Period {
	return Period{
		From: time.Date(year, time.January, 1, 0, 0, 0, 0, model.ChinaTime()),
		To:   time.Date(year, time.December, 31, 0, 0, 0, 0, model.ChinaTime()),
	}
}

// BureauFigures reads the report's figures for year from stats. Errors:
// invalid_argument for a year outside 2000–2999; whatever stats returns.
func BureauFigures(ctx context.Context, stats Reader, year int) (Figures, error) {
	if year < 2000 || year > 2999 {
		return Figures{}, model.Invalid("year", "必须在 2000 到 2999 之间，不能是 %d", year)
	}
	p := YearPeriod(year)
	s, err := stats.Summary(ctx, p, "")
	if err != nil {
		return Figures{}, fmt.Errorf("bureau figures %d: %w", year, err)
	}
	pb, err := stats.PartyBuilding(ctx, p)
	if err != nil {
		return Figures{}, fmt.Errorf("bureau figures %d: %w", year, err)
	}
	return Figures{
		Year: year, Period: p,
		Resolved:                 s.Resolved,
		ResolvedWithPartyMembers: pb.ResolvedWithPartyMembers,
		Participations:           pb.Participations,
		DistinctMembers:          pb.DistinctMembers,
		Activities:               pb.Activities,
		ActivitiesByKind:         maps.Clone(pb.ActivitiesByKind),
		ActivityParticipations:   pb.ActivityParticipations,
	}, nil
}

// Text is the report's sentences with the figures filled in, phrased the
// way the report phrases them:
//
//   - issues and 人次 of 10,000 or more are written in 万 to one decimal,
//     rounded up and prefixed 近 ("nearly"): 12,345 → 近1.3万; an exact
//     multiple of 1,000 needs no 近: 12,000 → 1.2万; below 10,000 the exact
//     number: 1234;
//   - activities ("近***次") from 100 to 9,999 are rounded up to the next
//     ten with 近: 123 → 近130次, 120 → 120次 (9,991 → 近1万次); below 100
//     exact; from 10,000 in 万 as above;
//   - the number of party members is exact.
func (f Figures) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d年，以在职党员“报到服务进小区”为载体，采取“智慧平台＋网格员＋微信随手拍”综合治理方式，帮助解决小区居民身边问题%s",
		f.Year, nearlyWan(f.Resolved, "个"))
	if f.ResolvedWithPartyMembers > 0 {
		fmt.Fprintf(&b, "，其中在职党员参与解决%s", nearlyWan(f.ResolvedWithPartyMembers, "个"))
	}
	fmt.Fprintf(&b, "。开展各类志愿服务、主题实践、联合执法服务%s，参与党员%s，共%d名在职党员参与。",
		nearlyTens(f.Activities, "次"), nearlyWan(f.Participations, "人次"), f.DistinctMembers)
	return b.String()
}

// nearlyWan writes n as the report does: exact below 10,000, else in 万 to
// one decimal rounded up, with 近 unless that is exact.
func nearlyWan(n int64, unit string) string {
	if n < 10000 {
		return fmt.Sprintf("%d%s", n, unit)
	}
	tenths := (n + 999) / 1000 // tenths of 万, rounded up
	s := fmt.Sprintf("%d", tenths/10)
	if tenths%10 != 0 {
		s += fmt.Sprintf(".%d", tenths%10)
	}
	if n%1000 != 0 {
		s = "近" + s
	}
	return s + "万" + unit
}

// nearlyTens writes a count of activities: exact below 100, rounded up to
// the next ten with 近 below 10,000, and in 万 (nearlyWan) from there.
func nearlyTens(n int64, unit string) string {
	up := (n + 9) / 10 * 10
	switch {
	case n >= 10000:
		return nearlyWan(n, unit)
	case n < 100 || n%10 == 0:
		return fmt.Sprintf("%d%s", n, unit)
	case up == 10000:
		return "近1万" + unit
	}
	return fmt.Sprintf("近%d%s", up, unit)
}

// SourceFigures are one channel's cases in a year (信息来源).
type SourceFigures struct {
	Source     string
	Name       string
	Registered int64
	Resolved   int64
}

// ChannelFigures reads the year's cases by channel (wechat, patrol, hotline,
// open311), most registered first. Errors: invalid_argument for a year
// outside 2000–2999; whatever stats returns.
func ChannelFigures(ctx context.Context, stats Reader, year int) ([]SourceFigures, error) {
	if year < 2000 || year > 2999 {
		return nil, model.Invalid("year", "must be between 2000 and 2999, not %d", year)
	}
	s, err := stats.Summary(ctx, YearPeriod(year), BySource)
	if err != nil {
		return nil, fmt.Errorf("channel figures %d: %w", year, err)
	}
	out := make([]SourceFigures, 0, len(s.Groups))
	for _, g := range s.Groups {
		out = append(out, SourceFigures{Source: g.Key, Name: model.Source(g.Key).Label(), Registered: g.Registered, Resolved: g.Resolved})
	}
	slices.SortStableFunc(out, func(a, b SourceFigures) int { return cmp.Compare(b.Registered, a.Registered) })
	return out, nil
}

// ChannelText is the channel split of a year's cases, as the report's
// second paragraph: "2026年立案问题按来源：网格员巡查12件（占60.0%），…。" It is
// empty when nothing was registered.
func ChannelText(year int, figures []SourceFigures) string {
	var total int64
	for _, f := range figures {
		total += f.Registered
	}
	if total == 0 {
		return ""
	}
	parts := make([]string, 0, len(figures))
	for _, f := range figures {
		if f.Registered == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s%s（占%.1f%%，已解决%d件）", f.Name, nearlyWan(f.Registered, "件"),
			100*float64(f.Registered)/float64(total), f.Resolved))
	}
	return fmt.Sprintf("%d年立案问题按来源：%s。", year, strings.Join(parts, "，"))
}
