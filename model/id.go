package model

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// NewID returns a new opaque id: 24 hex digits, a 4-byte timestamp then 8
// random bytes, so ids sort by creation second (the lists' cursors rely on
// it) and never collide across instances.
func NewID(now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], uint32(now.Unix()))
	_, _ = rand.Read(b[4:])
	return hex.EncodeToString(b[:])
}

// IDTime returns the creation second NewID put into id, and false for an id
// it did not make.
func IDTime(id string) (time.Time, bool) {
	if len(id) != 24 {
		return time.Time{}, false
	}
	b, err := hex.DecodeString(id[:8])
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(binary.BigEndian.Uint32(b)), 0), true
}
