package ticket

import (
	"context"

	"github.com/citizen-city/chengguantong/model"
)

// RefGetter loads a ticket by id or by case number.
type RefGetter interface {
	Get(ctx context.Context, id string) (*model.Ticket, error)
	GetByCaseNo(ctx context.Context, caseNo string) (*model.Ticket, error)
}

// Load is the one reading of a ticket reference (docs/openapi.yaml, parameter id):
// every route that takes a ticket id takes its case number too, so every
// service here loads the ticket a caller names through it, and works with
// the loaded ticket's id from then on. ref is an id, or a case number
// (model.IsCaseNo). Errors: not_found, unavailable.
func Load(ctx context.Context, s RefGetter, ref string) (*model.Ticket, error) {
	if model.IsCaseNo(ref) {
		return s.GetByCaseNo(ctx, ref)
	}
	return s.Get(ctx, ref)
}
