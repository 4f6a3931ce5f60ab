package redis

import (
	"context"
	"fmt"
	"time"
)

// Epoch tells whether Redis has lost its data — a FLUSHALL, a restart
// without persistence — since anyone last asked: a marker key that lives
// as long as the data does. The reconcilers, which rebuild Redis from
// MongoDB with scans that grow with the stored tickets, run at once when it
// is gone and otherwise only now and then.
type Epoch struct {
	r   *Redis
	key string
}

// NewEpoch returns the marker over r.
func NewEpoch(r *Redis) *Epoch { return &Epoch{r: r, key: r.Key("{epoch}")} }

// Lost sets the marker if it is missing and reports whether it was: true
// on a fresh Redis, and for exactly one caller across instances after
// Redis loses its data.
func (e *Epoch) Lost(ctx context.Context) (bool, error) {
	set, err := e.r.Client.SetNX(ctx, e.key, time.Now().UTC().Format(time.RFC3339), 0).Result()
	if err != nil {
		return false, fmt.Errorf("redis epoch: %w", Translate(err))
	}
	return set, nil
}
