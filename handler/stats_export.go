package handler

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service"
)

// StatsReader is the statistics the staff read and export.
type StatsReader interface {
	Summary(ctx context.Context, p service.Period, groupBy string) (*service.Summary, error)
	PartyBuilding(ctx context.Context, p service.Period) (*service.PartyBuilding, error)
}

// ExportHandlers serve GET /api/v1/stats/export.xlsx.
type ExportHandlers struct {
	Stats StatsReader
	// Now is the clock the default period (the current year to date) is
	// read from; nil means time.Now.
	Now func() time.Time
}

// xlsxContentType is the media type of an .xlsx workbook.
const xlsxContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Export is GET /api/v1/stats/export.xlsx?from=&to=: the workbook of
// service.WriteWorkbook for the period of ParsePeriod, as an attachment
// named 城管统计_<from>_<to>.xlsx. Errors: 400 for a bad period.
func (h *ExportHandlers) Export(c echo.Context) error {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	p, err := parsePeriodAt(c, now())
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	total, err := h.Stats.Summary(ctx, p, "")
	if err != nil {
		return err
	}
	byCategory, err := h.Stats.Summary(ctx, p, service.ByCategory)
	if err != nil {
		return err
	}
	byGrid, err := h.Stats.Summary(ctx, p, service.ByGrid)
	if err != nil {
		return err
	}
	pb, err := h.Stats.PartyBuilding(ctx, p)
	if err != nil {
		return err
	}
	// Built in memory first, so that a failure is still a clean error
	// response rather than half a file.
	more := service.WorkbookMore{}
	if more.BySource, err = h.Stats.Summary(ctx, p, service.BySource); err != nil {
		return err
	}
	if rr, ok := h.Stats.(RankingReader); ok {
		for _, by := range []string{service.ByGrid, service.ByCommunity, service.ByWorker} {
			r, err := rr.Ranking(ctx, p, by, defaultMinSample)
			if err != nil {
				return err
			}
			more.Rankings = append(more.Rankings, r)
		}
	}
	var buf bytes.Buffer
	if err := service.WriteWorkbook(&buf, total, byCategory, byGrid, pb, more); err != nil {
		return err
	}
	days := p.From.In(shanghai).Format(time.DateOnly) + "_" + p.To.In(shanghai).Format(time.DateOnly)
	c.Response().Header().Set(echo.HeaderContentDisposition,
		attachmentDisposition("chengguan-stats_"+days+".xlsx", "城管统计_"+days+".xlsx"))
	return c.Blob(http.StatusOK, xlsxContentType, buf.Bytes())
}

// attachmentDisposition is a Content-Disposition for a file name that is
// not ASCII: the real name in RFC 5987 encoding (the filename* parameter,
// UTF-8 and percent-encoded), which browsers prefer (RFC 6266), and an
// ASCII name for clients that do not understand it.
func attachmentDisposition(asciiName, name string) string {
	const hex = "0123456789ABCDEF"
	var ext strings.Builder
	for _, b := range []byte(name) {
		if isAttrChar(b) {
			ext.WriteByte(b)
		} else {
			ext.WriteByte('%')
			ext.WriteByte(hex[b>>4])
			ext.WriteByte(hex[b&15])
		}
	}
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, asciiName, ext.String())
}

// isAttrChar reports whether b may stand unencoded in an RFC 5987 value.
func isAttrChar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", b) >= 0
}

// maxPeriodYears bounds a statistics period.
const maxPeriodYears = 3

// ParsePeriod reads the statistics period of ?from=&to=: calendar dates
// (2026-01-01) in China Standard Time, both included; a full RFC 3339 time
// stands for its calendar day in China Standard Time, since statistics are
// kept by day. Without from, the period starts on 1 January of to's year;
// without to, it ends today; without either it is the current year to
// date. The result's From and To are midnight in Asia/Shanghai. Errors:
// invalid_argument for a malformed date, from after to, or a period over
// three years.
func ParsePeriod(c echo.Context) (service.Period, error) {
	return parsePeriodAt(c, time.Now())
}

func parsePeriodAt(c echo.Context, now time.Time) (service.Period, error) {
	from, err := periodDay(c, "from")
	if err != nil {
		return service.Period{}, err
	}
	to, err := periodDay(c, "to")
	if err != nil {
		return service.Period{}, err
	}
	if to.IsZero() {
		y, m, d := now.In(shanghai).Date()
		to = time.Date(y, m, d, 0, 0, 0, 0, shanghai)
	}
	if from.IsZero() {
		from = time.Date(to.Year(), time.January, 1, 0, 0, 0, 0, shanghai)
	}
	if from.After(to) {
		return service.Period{}, model.Invalid("from", "不能晚于 to（%s 晚于 %s）", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	if !to.Before(from.AddDate(maxPeriodYears, 0, 0)) {
		return service.Period{}, model.Invalid("to", "与 from 相隔不能超过 %d 年", maxPeriodYears)
	}
	return service.Period{From: from, To: to}, nil
}

// periodDay reads one end of a period as midnight of its day in China
// Standard Time; zero when absent.
func periodDay(c echo.Context, name string) (time.Time, error) {
	s := strings.TrimSpace(c.QueryParam(name))
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, shanghai)
	if err != nil {
		ts, err2 := time.Parse(time.RFC3339, s)
		if err2 != nil {
			return time.Time{}, model.Invalid(name, "必须是日期（如 2026-01-31）或 RFC 3339 时间，不能是 %q", s)
		}
		t = ts
	}
	y, m, d := t.In(shanghai).Date()
	if y < 2000 || y > 2999 {
		return time.Time{}, model.Invalid(name, "必须是 2000 年到 2999 年之间的日期")
	}
	return time.Date(y, m, d, 0, 0, 0, 0, shanghai), nil
}
