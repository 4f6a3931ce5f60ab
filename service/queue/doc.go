// Package queue runs the work queues (Redis Streams, store/redis) every
// instance consumes — screening, dispatch, notifications — with retries,
// give-up hooks, dead letters and the take-over of a dead instance's jobs,
// and the two loops every periodic job is built on (Every, Waiting).
package queue
