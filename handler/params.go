package handler

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
)

// listJSON is the list shape of the API: a page of items and the cursor of
// the next ("" at the end); total, where a list gives it, counts every
// match.
type listJSON[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
	Total      *int64 `json:"total,omitempty"`
}

// itemsJSON is a list that is never paged.
type itemsJSON[T any] struct {
	Items []T `json:"items"`
}

// pageParams reads ?limit= (default 20, max 100) and ?cursor=, which must
// be one signCursor made for this list (see cursor.go); it returns the
// store's cursor.
func pageParams(c echo.Context) (string, int, error) {
	limit := 20
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return "", 0, model.Invalid("limit", "必须是 1 到 100 之间的整数")
		}
		limit = n
	}
	cursor, err := openCursor(c, c.QueryParam("cursor"))
	if err != nil {
		return "", 0, err
	}
	return cursor, limit, nil
}

// ticketPage answers a cursor-paged list of tickets: it reads ?limit= and
// ?cursor=, asks list for the page and shows each ticket with show.
func ticketPage[T any](c echo.Context, list func(cursor string, limit int) ([]*model.Ticket, string, error), show func(*model.Ticket) T) error {
	cursor, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	ts, next, err := list(cursor, limit)
	if err != nil {
		return err
	}
	out := listJSON[T]{Items: make([]T, len(ts)), NextCursor: signCursor(c, next)}
	for i, t := range ts {
		out.Items[i] = show(t)
	}
	return c.JSON(http.StatusOK, out)
}

// floatParam reads a number; def is the value when absent (nil: required).
func floatParam(c echo.Context, name string, def *float64) (float64, error) {
	s := c.QueryParam(name)
	if s == "" {
		if def != nil {
			return *def, nil
		}
		return 0, model.Invalid(name, "不能为空")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, model.Invalid(name, "必须是数字，不能是 %q", s)
	}
	return f, nil
}

// boolParam reads an optional true/false query parameter.
func boolParam(c echo.Context, name string) (*bool, error) {
	switch s := c.QueryParam(name); s {
	case "":
		return nil, nil
	case "true", "1":
		v := true
		return &v, nil
	case "false", "0":
		v := false
		return &v, nil
	default:
		return nil, model.Invalid(name, "只能是 true 或 false，不能是 %q", s)
	}
}

// dateParam reads a calendar date in China Standard Time, or a full RFC
// 3339 timestamp; with a date, end=true gives the start of the next day
// (the API's "to" is inclusive for dates).
func dateParam(c echo.Context, name string, end bool) (time.Time, error) {
	s := c.QueryParam(name)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation("2006-01-02", s, shanghai)
	if err != nil {
		return time.Time{}, model.Invalid(name, "必须是日期（如 2026-11-25）或 RFC 3339 时间，不能是 %q", s)
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

// maxQueryWords bounds a search: each word is one more pattern every
// candidate document is matched against.
const maxQueryWords = 5

// queryWords splits ?q= into the words a search matches. Errors:
// invalid_argument (field q) when it is too long or has too many words.
func queryWords(c echo.Context) ([]string, error) {
	q := strings.TrimSpace(c.QueryParam("q"))
	if q == "" {
		return nil, nil
	}
	if err := model.CheckText("q", q); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(q) > 100 {
		return nil, model.Invalid("q", "搜索词最多 100 个字")
	}
	words := strings.Fields(q)
	if len(words) > maxQueryWords {
		return nil, model.Invalid("q", "搜索词最多 %d 个（以空格分隔），现有 %d 个", maxQueryWords, len(words))
	}
	return words, nil
}
