package ticket_test

import (
	"strings"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/ticket"
)

// TestPhotoFlags: an "after" photo far from the ticket, or taken before the
// dispatch, is flagged; a credible one or one without EXIF is not.
func TestPhotoFlags(t *testing.T) {
	w := ticket.NewWorkflow(ticket.WorkflowDeps{Config: ticket.DispatchConfig{PhotoMaxDistanceM: 300}})
	tk := &model.Ticket{Point: model.Point{Lat: 32.0415, Lng: 118.7845}}
	dispatched := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	before, after := dispatched.Add(-time.Hour), dispatched.Add(time.Hour)
	near := &model.Point{Lat: 32.0425, Lng: 118.7845} // ~111 m north
	far := &model.Point{Lat: 32.0455, Lng: 118.7845}  // ~445 m north
	tests := []struct {
		name  string
		photo model.Photo
		want  []string // substrings of the flags, in order
	}{
		{"credible", model.Photo{ID: "a", ExifLocation: near, TakenAt: &after}, nil},
		{"no EXIF", model.Photo{ID: "b"}, nil},
		{"far", model.Photo{ID: "c", ExifLocation: far, TakenAt: &after}, []string{"拍摄位置距工单位置 445 米，超过 300 米"}},
		{"early", model.Photo{ID: "d", ExifLocation: near, TakenAt: &before}, []string{"拍摄时间 2026-11-25 16:00 早于派遣时间 2026-11-25 17:00"}},
		{"both", model.Photo{ID: "e", ExifLocation: far, TakenAt: &before}, []string{"拍摄位置", "拍摄时间"}},
	}
	for _, tt := range tests {
		got := w.PhotoFlags(tk, []*model.Photo{&tt.photo}, dispatched)
		if len(got) != len(tt.want) {
			t.Errorf("%s: flags %q, want %d", tt.name, got, len(tt.want))
			continue
		}
		for i, sub := range tt.want {
			if !strings.Contains(got[i], sub) || !strings.Contains(got[i], tt.photo.ID) {
				t.Errorf("%s: flag %q does not say %q about photo %s", tt.name, got[i], sub, tt.photo.ID)
			}
		}
	}
}
