package privacy

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/citizen-city/chengguantong/model"
)

// TestCheckRects holds one message per rule of a redaction's regions.
func TestCheckRects(t *testing.T) {
	t.Parallel()
	many := make([]Rect, 33)
	for i := range many {
		many[i] = Rect{X: 0, Y: 0, W: 0.1, H: 0.1}
	}
	for _, c := range []struct {
		rects []Rect
		field string
	}{
		{nil, "rects"},
		{many, "rects"},
		{[]Rect{{X: -0.1, Y: 0, W: 0.5, H: 0.5}}, "rects[0].x"},
		{[]Rect{{X: 0, Y: 0, W: 0.5, H: 0.5}, {X: 0, Y: 1.5, W: 0.5, H: 0.5}}, "rects[1].y"},
		{[]Rect{{X: 0, Y: 0, W: 0, H: 0.5}}, "rects[0].w"},
		{[]Rect{{X: 0, Y: 0, W: 0.5, H: math.NaN()}}, "rects[0].h"},
		{[]Rect{{X: 0.6, Y: 0, W: 0.5, H: 0.5}}, "rects[0].w"},
		{[]Rect{{X: 0, Y: 0.9, W: 0.5, H: 0.2}}, "rects[0].h"},
		{[]Rect{{X: 0, Y: 0, W: 1, H: 1}, {X: 0.25, Y: 0.25, W: 0.75, H: 0.75}}, ""},
	} {
		err := checkRects(c.rects)
		if c.field == "" {
			if err != nil {
				t.Errorf("%v: %v", c.rects, err)
			}
			continue
		}
		me, ok := errors.AsType[*model.Error](err)
		if !ok || me.Code != model.CodeInvalidArgument || me.Field != c.field || me.Message == "" {
			t.Errorf("%v: %v, want invalid_argument on %s", c.rects, err, c.field)
		}
	}
}

// TestOnlyResidentsCloseTheirAccount: staff accounts and bound workers or
// members are refused before anything is touched.
func TestOnlyResidentsCloseTheirAccount(t *testing.T) {
	t.Parallel()
	s := New(Deps{}) // no store: a refusal must not reach one
	for _, u := range []*model.User{
		{ID: "s", Kind: model.KindStaff, Roles: []model.Role{model.RoleStaff}},
		{ID: "w", Kind: model.KindWeChat, Roles: []model.Role{model.RoleResident}, WorkerID: "p1"},
		{ID: "m", Kind: model.KindWeChat, Roles: []model.Role{model.RoleResident}, PartyMemberID: "p2"},
	} {
		if err := s.DeleteAccount(context.Background(), u); model.ErrorCode(err) != model.CodePermissionDenied {
			t.Errorf("%s: %v, want permission_denied", u.ID, err)
		}
	}
}
