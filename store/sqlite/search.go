package sqlite

import (
	"encoding/hex"
	"strings"
	"unicode/utf8"

	"github.com/citizen-city/chengguantong/model"
)

// Search (model.TicketQuery.Words): each word must appear in the
// description or the address, as a substring, Latin letters in any case.
//
// A word of three or more characters is a phrase query on ticket_text, an
// FTS5 table with the trigram tokenizer: the phrase of a word's trigrams
// matches exactly the texts that contain the word. Trigrams cannot match a
// shorter word, so ticket_grams holds each character and each pair of
// adjacent characters of both texts (lower-cased, hex-encoded so that the
// tokenizer keeps each one whole): a word of one or two characters is one
// token there. Both tables are contentless and keyed by the ticket's rid,
// so that a search lists its matches newest first without sorting.

const (
	sqlTextInsert  = "INSERT INTO ticket_text (rowid, description, address) VALUES (?, ?, ?)"
	sqlGramsInsert = "INSERT INTO ticket_grams (rowid, grams) VALUES (?, ?)"
)

// indexText writes a ticket's search rows.
func indexText(w *txw, rid int64, t *model.Ticket) error {
	if _, err := w.exec(sqlTextInsert, rid, t.Description, t.Address); err != nil {
		return err
	}
	_, err := w.exec(sqlGramsInsert, rid, grams(t.Description, t.Address))
	return err
}

// unindexText removes a ticket's search rows.
func unindexText(w *txw, rid int64) error {
	if _, err := w.exec("DELETE FROM ticket_text WHERE rowid = ?", rid); err != nil {
		return err
	}
	_, err := w.exec("DELETE FROM ticket_grams WHERE rowid = ?", rid)
	return err
}

// grams are the tokens of ticket_grams for the texts: every character and
// every pair of adjacent characters of each, once.
func grams(texts ...string) string {
	seen := map[string]bool{}
	var b strings.Builder
	add := func(g string) {
		if seen[g] {
			return
		}
		seen[g] = true
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(hex.EncodeToString([]byte(g)))
	}
	for _, text := range texts {
		s := strings.ToLower(text)
		prev := -1
		for i, r := range s {
			if r == utf8.RuneError || isSpace(r) {
				prev = -1
				continue
			}
			add(s[i : i+utf8.RuneLen(r)])
			if prev >= 0 {
				add(s[prev : i+utf8.RuneLen(r)])
			}
			prev = i
		}
	}
	return b.String()
}

func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\u3000':
		return true
	}
	return false
}

// wordsMatch returns the conditions on rid that q.Words make: one MATCH
// on ticket_text for the long words, one on ticket_grams for the short
// ones; nil, nil when there are no words. A short word with a space can
// match nothing: then ok is false.
func wordsMatch(words []string) (long, short string, ok bool) {
	var l, s []string
	for _, w := range words {
		w = strings.ToLower(strings.TrimSpace(w))
		switch n := utf8.RuneCountInString(w); {
		case n == 0:
			continue
		case n >= 3:
			l = append(l, `"`+strings.ReplaceAll(w, `"`, `""`)+`"`)
		default:
			if strings.ContainsFunc(w, isSpace) {
				return "", "", false
			}
			s = append(s, `"`+hex.EncodeToString([]byte(w))+`"`)
		}
	}
	return strings.Join(l, " AND "), strings.Join(s, " AND "), true
}
