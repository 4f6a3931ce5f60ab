package sqlite

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// The stored forms of values shared by the tables of 0003_people.sql:
// times as INTEGER milliseconds since the epoch (UTC), NULL when unset;
// lists a query never filters by as JSON arrays.

// msOf is t as stored: Unix milliseconds.
func msOf(t time.Time) int64 { return t.UnixMilli() }

// msOrNull is t as stored, NULL for the zero time.
func msOrNull(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// timeOfMs is a stored time, in UTC.
func timeOfMs(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// timeOfNullMs is a stored time that may be NULL (the zero time).
func timeOfNullMs(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return timeOfMs(ms.Int64)
}

// clockMs is the store's clock, truncated to what it keeps.
func (db *DB) clockMs() time.Time { return db.now().UTC().Truncate(time.Millisecond) }

// jsonStrings encodes a list as a JSON array ("[]" for none).
func jsonStrings[T ~string](xs []T) string {
	if len(xs) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(xs) // a list of strings always encodes
	return string(b)
}

// stringsOfJSON decodes what jsonStrings stored; nil for an empty list.
func stringsOfJSON[T ~string](s string) ([]T, error) {
	var xs []T
	if err := json.Unmarshal([]byte(s), &xs); err != nil {
		return nil, fmt.Errorf("stored list %q: %w", s, err)
	}
	if len(xs) == 0 {
		return nil, nil
	}
	return xs, nil
}

// foldText is how names and directory words are compared: lower case by Go's
// Unicode rules (SQLite's lower() knows ASCII only).
func foldText(s string) string { return strings.ToLower(s) }

// nameGrams returns the distinct one- and two-rune substrings of each of ss.
// Every substring of length ≥ 1 of s contains one of them, so a word is
// found through any of its own grams (see wordGram).
func nameGrams(ss ...string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(g string) {
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	for _, s := range ss {
		rs := []rune(s)
		for i := range rs {
			add(string(rs[i]))
			if i+1 < len(rs) {
				add(string(rs[i : i+2]))
			}
		}
	}
	return out
}

// wordGram is the gram a word is looked up by: its last two runes (the end
// of a phone number tells more than its 13…), or the rune of a one-rune
// word.
func wordGram(word string) string {
	rs := []rune(word)
	if len(rs) <= 2 {
		return word
	}
	return string(rs[len(rs)-2:])
}

// photoFileError translates an error of the photo files' I/O: a full disk (or
// quota) is unavailable with the same message as a full database, never a
// 500; anything else is internal.
func photoFileError(err error, what string) error {
	if err == nil {
		return nil
	}
	var me *model.Error
	if errors.As(err, &me) {
		return err
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return model.Wrap(model.CodeUnavailable, fmt.Errorf("%s: %w", what, err), msgStorageFull)
	}
	if errors.Is(err, syscall.EROFS) {
		return model.Wrap(model.CodeUnavailable, fmt.Errorf("%s: %w", what, err), "照片存储暂时不可写，请稍后重试")
	}
	return model.Wrap(model.CodeInternal, fmt.Errorf("%s: %w", what, err), "照片存储出错")
}

// missing is the not_found error a read of a missing row answers.
func missing(format string, args ...any) error {
	return model.Errorf(model.CodeNotFound, format, args...)
}

// qmarks returns "?, ?, …" for n values.
func qmarks(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// argsOf converts a list for use as query arguments.
func argsOf[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
