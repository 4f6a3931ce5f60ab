package model

// Delivery is one delivery of a queued job: the queue's message id and the
// job's payload (usually a ticket id). A job may be delivered more than
// once, so every handler is idempotent.
type Delivery struct {
	ID      string
	Payload string
}
