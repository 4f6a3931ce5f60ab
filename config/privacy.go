package config

import (
	"fmt"
	"time"
)

// Privacy are the settings of the duty of care (docs/privacy.md).
type Privacy struct {
	// TicketRetention is how long after its last change a closed, rejected
	// or merged ticket keeps its personal data (TICKET_RETENTION_DAYS, 730).
	TicketRetention time.Duration
	// AuditRetention is how long the access trail keeps an entry
	// (AUDIT_RETENTION_DAYS, 1095: three years).
	AuditRetention time.Duration
	// SweepEvery is how often the privacy job runs: the retention period's
	// anonymisation, the erasures left of closed accounts, the trail's old
	// entries (PRIVACY_SWEEP_EVERY, 1h).
	SweepEvery time.Duration
	// RedactKeepOriginal keeps a redacted photo's original for dispatchers
	// and admins (REDACT_KEEP_ORIGINAL=true, the default); false replaces
	// it with the blurred image.
	RedactKeepOriginal bool
	// ErasePhotos is what becomes of a closed account's photos:
	// "remove" (ERASE_PHOTOS, the default) or "redacted" (the blurred
	// rendition of the photos staff redacted stays, without its original).
	ErasePhotos string
	// LoginSlowAfter, LoginLockAfter and LoginLockFor: from the
	// LOGIN_SLOW_AFTER-th (5) wrong password for one staff account from one
	// address, each further try waits twice as long; at the
	// LOGIN_LOCK_AFTER-th (10) that address is locked out of that account
	// for LOGIN_LOCK_FOR (15m).
	LoginSlowAfter int
	LoginLockAfter int
	LoginLockFor   time.Duration
}

func loadPrivacy(p *parser) Privacy {
	c := Privacy{
		TicketRetention:    p.days("TICKET_RETENTION_DAYS", 730),
		AuditRetention:     p.days("AUDIT_RETENTION_DAYS", 3*365),
		SweepEvery:         p.duration("PRIVACY_SWEEP_EVERY", time.Hour),
		RedactKeepOriginal: p.boolean("REDACT_KEEP_ORIGINAL", true),
		ErasePhotos:        p.str("ERASE_PHOTOS", "remove"),
		LoginSlowAfter:     p.positiveInt("LOGIN_SLOW_AFTER", 5),
		LoginLockAfter:     p.positiveInt("LOGIN_LOCK_AFTER", 10),
		LoginLockFor:       p.duration("LOGIN_LOCK_FOR", 15*time.Minute),
	}
	if c.ErasePhotos != "remove" && c.ErasePhotos != "redacted" {
		p.fail("ERASE_PHOTOS", fmt.Sprintf("must be remove or redacted, not %q", c.ErasePhotos))
	}
	if c.LoginLockAfter < c.LoginSlowAfter {
		p.fail("LOGIN_LOCK_AFTER", fmt.Sprintf("must be at least LOGIN_SLOW_AFTER (%d)", c.LoginSlowAfter))
	}
	if c.AuditRetention < 180*24*time.Hour {
		p.fail("AUDIT_RETENTION_DAYS", "must be at least 180: the trail must outlive the questions asked of it")
	}
	return c
}

// days reads a whole number of days.
func (p *parser) days(name string, def int) time.Duration {
	return time.Duration(p.positiveInt(name, def)) * 24 * time.Hour
}
