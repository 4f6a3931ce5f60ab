package model

import "time"

// Photo is an uploaded image. The stored bytes carry no metadata; what EXIF
// said about time and place is kept here.
type Photo struct {
	ID          string
	OwnerID     string
	ContentType string
	Width       int
	Height      int
	Size        int64
	SHA256      string
	TakenAt     *time.Time
	// ExifLocation is the WGS-84 position the camera recorded, if any.
	ExifLocation *Point
	// UsedBy is the ticket (report or resolution) the photo belongs to once
	// submitted; empty while unused.
	UsedBy string
	// Moderation is WeChat's content-security verdict.
	Moderation Moderation
	CreatedAt  time.Time
	// RedactedAt is when staff blurred regions of the photo (zero if never):
	// from then on its full and thumbnail renditions are the blurred ones.
	// HasOriginal says the unblurred original is still kept, for
	// dispatchers only.
	RedactedAt  time.Time
	HasOriginal bool
	// OriginalType is the kept original's media type.
	OriginalType string
}

// VariantOriginal names the unblurred original of a redacted photo, kept
// for dispatchers only; for a photo never redacted it is its full
// rendition.
const VariantOriginal = "original"

// Moderation is the state of a photo's asynchronous content check.
type Moderation struct {
	TraceID string
	// Suggest is "" until a verdict arrives, then pass, review or risky;
	// "timeout" when none came in time (the photo is then treated as passed).
	Suggest   string
	CheckedAt time.Time
}

// Blocked reports whether the photo failed its content check and must not
// be served.
func (m Moderation) Blocked() bool { return m.Suggest == "risky" }

// PhotoFile is the bytes of one stored rendition of a photo.
type PhotoFile struct {
	Data        []byte
	ContentType string
	SHA256      string
}
