package model

import (
	"testing"
	"time"
)

func TestIDTimeReadsBackTheCreationSecond(t *testing.T) {
	at := time.Date(2026, 11, 26, 8, 30, 15, 999, time.UTC)
	got, ok := IDTime(NewID(at))
	if !ok || !got.Equal(at.Truncate(time.Second)) {
		t.Fatalf("IDTime = %v, %v; want %v", got, ok, at.Truncate(time.Second))
	}
	for _, bad := range []string{"", "abc", "zzzzzzzz0000000000000000", NewID(at) + "0"} {
		if _, ok := IDTime(bad); ok {
			t.Errorf("IDTime(%q) accepted an id NewID did not make", bad)
		}
	}
}

// Ids made in one second by one process follow the order they were made
// in: the lists order by creation time, then id.
func TestIDsFollowCreationOrderWithinASecond(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	prev := NewID(at)
	for range 10000 {
		id := NewID(at)
		if id <= prev && id[18:] != "000000" { // the counter may wrap once in 16M
			t.Fatalf("%s made after %s sorts before it", id, prev)
		}
		prev = id
	}
}
