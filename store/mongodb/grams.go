package mongodb

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// The staff search's words are found through an array of character n-grams
// stored with each ticket ("grams": every character and every pair of
// adjacent characters of its description and of its address, lower-cased),
// with a multikey index. Chinese has no spaces, so a word is a substring: a
// ticket contains a word only if it holds every bigram of it (a one-character
// word: that character), which the index answers with $all; the candidates
// are then checked for the word itself (bigrams may occur apart). Never a
// regular expression over the collection.

// grams returns the distinct unigrams and bigrams of each text, in no
// particular order.
func grams(texts ...string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, text := range texts {
		rs := []rune(strings.ToLower(text))
		for i, r := range rs {
			if isSpace(r) {
				continue
			}
			for _, g := range []string{string(r), bigram(rs, i)} {
				if g != "" && !seen[g] {
					seen[g] = true
					out = append(out, g)
				}
			}
		}
	}
	return out
}

// bigram is the pair of characters at i, or "" at the end or across a
// space.
func bigram(rs []rune, i int) string {
	if i+1 >= len(rs) || isSpace(rs[i+1]) {
		return ""
	}
	return string(rs[i : i+2])
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u3000' }

// wordGrams are the grams a ticket must hold for each of words: the word
// itself if it is one character, else each of its bigrams (spaces split a
// word into parts, as they split the stored grams).
func wordGrams(words []string) []string {
	var out []string
	for _, w := range words {
		for _, part := range strings.FieldsFunc(strings.ToLower(w), isSpace) {
			rs := []rune(part)
			if len(rs) == 1 {
				out = append(out, part)
				continue
			}
			for i := 0; i+1 < len(rs); i++ {
				out = append(out, string(rs[i:i+2]))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// wordsExact reports whether wordGrams answers words exactly (no
// candidate it finds can lack a word): every word is at most two
// characters and has no space.
func wordsExact(words []string) bool {
	for _, w := range words {
		if utf8.RuneCountInString(w) > 2 || strings.IndexFunc(w, isSpace) >= 0 {
			return false
		}
	}
	return true
}

// hasWords reports whether each of words appears in description or
// address, case-insensitively: the exact check of a candidate.
func hasWords(words []string, description, address string) bool {
	d, a := strings.ToLower(description), strings.ToLower(address)
	for _, w := range words {
		w = strings.ToLower(w)
		if !strings.Contains(d, w) && !strings.Contains(a, w) {
			return false
		}
	}
	return true
}
