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
