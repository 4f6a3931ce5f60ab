package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service"
)

// TestPhotoFlags: an "after" photo far from the ticket, or taken before the
// dispatch, is flagged; a credible one or one without EXIF is not.
func TestPhotoFlags(t *testing.T) {
	w := service.NewWorkflow(service.WorkflowDeps{Config: service.DispatchConfig{PhotoMaxDistanceM: 300}})
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

// TestScoreWeighsTheRates: the composite score and its weights.
func TestScoreWeighsTheRates(t *testing.T) {
	c := service.Counts{Registered: 10, Resolved: 8, Closed: 8, OnTime: 6, OpenOverdue: 2, Rated: 4, Satisfied: 3,
		Dispatched: 10, Returned: 1, Reopened: 2}
	// on time 6/10, resolution 8/10, satisfaction 3/4, dispatch 0.9, 1 − reopen 1 − 2/8.
	want := 100 * (0.4*0.6 + 0.2*0.8 + 0.2*0.75 + 0.1*0.9 + 0.1*0.75)
	if got := service.Score(c, model.DefaultRankingWeights()); got < want-0.01 || got > want+0.01 {
		t.Errorf("score %v, want %v", got, want)
	}
	if got := service.Score(c, model.RankingWeights{model.RateOnTime: 1}); got != 60 {
		t.Errorf("on time alone: %v, want 60", got)
	}
	// Closing late is not better than not closing: a unit with a ticket open
	// past its deadline and one that closed it late have the same on-time rate.
	open := service.Counts{Closed: 1, OnTime: 1, OpenOverdue: 1}
	late := service.Counts{Closed: 2, OnTime: 1}
	if open.OnTimeRate() != late.OnTimeRate() || open.OnTimeRate() != 0.5 {
		t.Errorf("open past due %v, closed late %v; want both 0.5", open.OnTimeRate(), late.OnTimeRate())
	}
}
