package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// Handoffs are kept in their own small table, written in the transaction
// of the change they hand off (Insert, Commit) and deleted once relayed:
// it holds only what is not relayed yet, a few rows whatever the history.

// Unrelayed lists up to limit recorded handoffs, oldest first. Errors:
// unavailable.
func (s *Tickets) Unrelayed(ctx context.Context, limit int) ([]model.Handoff, error) {
	rows, err := s.db.r.QueryContext(ctx, "SELECT ticket_id, version, from_event, owner, at FROM handoffs ORDER BY at, ticket_id LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("unrelayed handoffs: %w", translate(err))
	}
	defer rows.Close()
	var out []model.Handoff
	for rows.Next() {
		var h model.Handoff
		var at int64
		if err := rows.Scan(&h.TicketID, &h.Version, &h.From, &h.Owner, &at); err != nil {
			return nil, fmt.Errorf("unrelayed handoffs: %w", translate(err))
		}
		h.At = time.UnixMilli(at).UTC()
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("unrelayed handoffs: %w", translate(err))
	}
	return out, nil
}

// Relayed clears the ticket's handoff if it was recorded at version or
// before; one recorded by a later commit stays. Errors: unavailable.
func (s *Tickets) Relayed(ctx context.Context, ticketID string, version int64) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM handoffs WHERE ticket_id = ? AND version <= ?", ticketID, version)
		return err
	})
	if err != nil {
		return fmt.Errorf("relayed handoff %s: %w", ticketID, err)
	}
	return nil
}
