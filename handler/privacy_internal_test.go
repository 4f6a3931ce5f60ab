package handler

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/citizen-city/chengguantong/model"
)

// TestLeaderViewMasksNamesInNotes: a leader's view of a ticket names
// nobody in full — not the assignee, the actors, nor the notes the
// workflow writes with their names in them; a dispatcher's is as written.
func TestLeaderViewMasksNamesInNotes(t *testing.T) {
	view := func() staffTicketJSON {
		v := staffTicketJSON{
			Assignee: &staffPersonJSON{Name: "张网格", Phone: "13900000001", Role: "grid_worker"},
			Timeline: []staffEventJSON{
				{Type: "dispatched", Note: "已派遣至网格员张网格处置；联系 13900000001", Actor: &staffPersonJSON{Name: "李派遣", Role: "staff"},
					Assignee: &staffPersonJSON{Name: "张网格", Role: "grid_worker"}},
				{Type: "urged", Note: "李派遣督办：请张网格今日处理"},
			},
		}
		v.Resolution = &resolutionJSON{Note: "张网格已清理"}
		return v
	}
	h := &handlers{}
	as := func(roles ...model.Role) echo.Context {
		c := echo.New().NewContext(httptest.NewRequest("GET", "/", nil), httptest.NewRecorder())
		c.Set(userKey, &model.User{ID: "u", Roles: append([]model.Role{model.RoleStaff}, roles...)})
		return c
	}

	leader := view()
	h.forViewer(as(model.RoleLeader), &leader)
	all := leader.Assignee.Name + leader.Assignee.Phone + leader.Resolution.Note
	for _, e := range leader.Timeline {
		all += "|" + e.Note
		if e.Actor != nil {
			all += e.Actor.Name
		}
		if e.Assignee != nil {
			all += e.Assignee.Name
		}
	}
	for _, full := range []string{"张网格", "李派遣", "13900000001"} {
		if strings.Contains(all, full) {
			t.Errorf("a leader reads %q in %q", full, all)
		}
	}
	if leader.Timeline[0].Note != "已派遣至网格员张**处置；联系 139****0001" || leader.Timeline[1].Note != "李**督办：请张**今日处理" {
		t.Errorf("a leader's notes: %q, %q", leader.Timeline[0].Note, leader.Timeline[1].Note)
	}

	disp := view()
	h.forViewer(as(model.RoleDispatcher), &disp)
	if disp.Timeline[0].Note != view().Timeline[0].Note || disp.Assignee.Name != "张网格" {
		t.Errorf("a dispatcher's view was masked: %+v", disp)
	}
}
