package model

// LiveEvent is one entry of the staff's live feed (GET /api/v1/admin/events):
// its id (a reconnect resumes after it), its type and its JSON data.
type LiveEvent struct {
	ID   string
	Type string
	Data []byte
}

// The live feed's event types.
const (
	LiveTicketCreated = "ticket.created"
	LiveTicketChanged = "ticket.changed"
	LiveTicketOverdue = "ticket.overdue"
)
