package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/citizen-city/chengguantong/model"
)

// Submitters keeps what a GeoReport v2 client sent about the person
// behind a request, one row per ticket, for staff only.
type Submitters struct{ db *DB }

// Submitters returns the Open311 submitter store.
func (db *DB) Submitters() *Submitters { return &Submitters{db: db} }

// Save stores the submitter of a ticket; saving again (a retry) replaces
// it. Errors: unavailable.
func (s *Submitters) Save(ctx context.Context, p *model.Open311Submitter) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO open311_submitters (ticket_id, key_id, key_name, email, phone, first_name,
			last_name, device_id, account_id, media_url, address_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.TicketID, p.KeyID, p.KeyName, p.Email, p.Phone, p.FirstName, p.LastName, p.DeviceID, p.AccountID,
			p.MediaURL, p.AddressID, msOf(p.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("save open311 submitter: %w", err)
	}
	return nil
}

// Get returns the submitter of a ticket filed through Open311. Errors:
// not_found (any other ticket), unavailable.
func (s *Submitters) Get(ctx context.Context, ticketID string) (*model.Open311Submitter, error) {
	var (
		p  model.Open311Submitter
		at int64
	)
	err := s.db.r.QueryRowContext(ctx, `SELECT ticket_id, key_id, key_name, email, phone, first_name, last_name, device_id, account_id,
		media_url, address_id, created_at FROM open311_submitters WHERE ticket_id = ?`, ticketID).
		Scan(&p.TicketID, &p.KeyID, &p.KeyName, &p.Email, &p.Phone, &p.FirstName, &p.LastName, &p.DeviceID, &p.AccountID,
			&p.MediaURL, &p.AddressID, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, missing("工单 %s 不是经 Open311 提交的", ticketID)
	}
	if err != nil {
		return nil, fmt.Errorf("get open311 submitter: %w", translate(err))
	}
	p.CreatedAt = timeOfMs(at)
	return &p, nil
}
