package model

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"
)

// NewID returns a new opaque id: 24 hex digits laid out as a MongoDB
// ObjectID — a 4-byte timestamp, 5 bytes drawn once per process, and a
// 3-byte counter — so ids sort by creation second (the lists' cursors rely
// on it), follow creation order within a process even inside one second,
// and never collide across instances.
func NewID(now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], uint32(now.Unix()))
	p := idProcess()
	copy(b[4:9], p[:])
	n := idCounter.Add(1)
	b[9], b[10], b[11] = byte(n>>16), byte(n>>8), byte(n)
	return hex.EncodeToString(b[:])
}

// idCounter numbers the ids of this process; it starts at a random value,
// as an ObjectID's does.
var idCounter atomic.Uint32

// idProcess is this process's random part of every id.
var idProcess = sync.OnceValue(func() [5]byte {
	var p [5]byte
	_, _ = rand.Read(p[:])
	var c [4]byte
	_, _ = rand.Read(c[:])
	idCounter.Store(binary.BigEndian.Uint32(c[:]) & 0xffffff)
	return p
})

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

// Digest is how a secret or a key is kept: the hex of the first 16 bytes of
// its SHA-256 (invite codes, Idempotency-Keys with the user they belong to).
func Digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}
