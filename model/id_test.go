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
