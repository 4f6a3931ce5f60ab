package privacy

import (
	"context"
	"errors"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// Pruner removes the access trail's entries past its retention period
// (package audit's Trail).
type Pruner interface {
	Prune(ctx context.Context) (int, error)
}

// Swept is what one pass of the privacy job did.
type Swept struct {
	Erased     int // erasures of closed accounts finished
	Anonymised int // tickets past the retention period anonymised
	Pruned     int // access-trail entries past theirs removed
}

// sweepLease names the lease one pass holds, and sweepTTL bounds it.
const (
	sweepLease = "privacy-sweep"
	sweepTTL   = 10 * time.Minute
	// sweepBatch is how many tickets one read of a work list takes.
	sweepBatch = 100
)

// Run does the privacy job every period until ctx ends: the erasures of
// closed accounts left to do, the tickets past the retention period, the
// access trail's old entries. One instance at a time does a pass (a Redis
// lease); every step is idempotent, so a pass cut short is finished by the
// next.
func (s *Service) Run(ctx context.Context, trail Pruner, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.Sweep(ctx, trail); err != nil && ctx.Err() == nil {
			s.logger.WarnContext(ctx, "privacy sweep", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep does one pass of the privacy job (see Run) if no other instance is
// doing one. trail may be nil. Errors: unavailable.
func (s *Service) Sweep(ctx context.Context, trail Pruner) (Swept, error) {
	var out Swept
	if s.lease != nil {
		ok, _, err := s.lease.Acquire(ctx, sweepLease, s.instance, sweepTTL)
		if err != nil || !ok {
			return out, err
		}
		defer func() { _ = s.lease.Release(context.WithoutCancel(ctx), sweepLease, s.instance) }()
	}
	var errs []error
	n, err := s.sweepErasures(ctx)
	out.Erased = n
	errs = append(errs, err)
	n, err = s.sweepExpired(ctx)
	out.Anonymised = n
	errs = append(errs, err)
	if trail != nil {
		n, err = trail.Prune(ctx)
		out.Pruned = n
		errs = append(errs, err)
	}
	if out != (Swept{}) {
		s.logger.InfoContext(ctx, "privacy sweep", "erased", out.Erased, "anonymised", out.Anonymised, "trail_pruned", out.Pruned)
	}
	return out, errors.Join(errs...)
}

// sweepErasures finishes the erasures left to do; one that must wait again
// (a report still being screened) stays on the list.
func (s *Service) sweepErasures(ctx context.Context) (int, error) {
	es, err := s.store.Erasures(ctx, sweepBatch)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, e := range es {
		ok, err := s.erase(ctx, e)
		if err != nil {
			s.logger.WarnContext(ctx, "erasure", "ticket", e.TicketID, "error", err.Error())
			continue
		}
		if !ok {
			continue
		}
		if err := s.store.ErasureDone(ctx, e); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

// sweepExpired anonymises the final tickets unchanged for the retention
// period, a batch at a time, until none is left or ctx ends.
func (s *Service) sweepExpired(ctx context.Context) (int, error) {
	if s.cfg.TicketRetention <= 0 {
		return 0, nil
	}
	cutoff := s.now().Add(-s.cfg.TicketRetention)
	total := 0
	for ctx.Err() == nil {
		ids, err := s.store.Expired(ctx, cutoff, sweepBatch)
		if err != nil {
			return total, err
		}
		progress := 0
		for _, id := range ids {
			ok, err := s.expire(ctx, id)
			if err != nil {
				s.logger.WarnContext(ctx, "anonymise an expired ticket", "ticket", id, "error", err.Error())
				continue
			}
			if ok {
				progress++
			}
		}
		total += progress
		if len(ids) < sweepBatch || progress == 0 {
			return total, nil
		}
	}
	return total, ctx.Err()
}

// expire anonymises one ticket past the retention period: its report
// photos' originals go (a photo never redacted is its own original, and
// goes whole; a redacted one keeps its blurred rendition, without owner or
// EXIF), what an Open311 client said of its submitter goes, and the ticket
// keeps what the public reads (model.Ticket.Anonymise). Every step is
// idempotent; the ticket is marked done last.
func (s *Service) expire(ctx context.Context, id string) (bool, error) {
	t, err := s.tickets.Get(ctx, id)
	if errors.Is(err, model.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, pid := range t.PhotoIDs {
		p, err := s.photos.Get(ctx, pid)
		if errors.Is(err, model.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		if p.RedactedAt.IsZero() {
			if err := s.redaction.Remove(ctx, pid); err != nil {
				return false, err
			}
			continue
		}
		if err := s.redaction.DropOriginal(ctx, pid); err != nil {
			return false, err
		}
		if err := s.redaction.Disown(ctx, pid); err != nil && !errors.Is(err, model.ErrNotFound) {
			return false, err
		}
	}
	if t.Source == model.SourceOpen311 {
		if err := s.store.DeleteSubmitter(ctx, t.ID); err != nil {
			return false, err
		}
	}
	gone, err := s.gonePhotos(ctx, t)
	if err != nil {
		return false, err
	}
	_, err = s.store.Anonymise(ctx, t, func(x *model.Ticket) {
		x.Anonymise()
		x.RemovePhotos(gone)
	}, true)
	if errors.Is(err, model.ErrConflict) {
		return false, nil // changed meanwhile: the next pass
	}
	return err == nil, err
}
