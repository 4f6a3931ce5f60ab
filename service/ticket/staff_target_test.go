package ticket

import (
	"context"
	"testing"

	"github.com/citizen-city/chengguantong/model"
)

// fakeAccounts knows which users are grid workers and which party members.
type fakeAccounts map[string]*model.User

func (f fakeAccounts) Get(_ context.Context, id string) (*model.User, error) {
	if u, ok := f[id]; ok {
		return u, nil
	}
	return nil, model.ErrNotFound
}
func (f fakeAccounts) GetStaff(context.Context, string) (*model.User, error) {
	return nil, model.ErrNotFound
}
func (f fakeAccounts) OnDuty(context.Context, []string) ([]string, error) { return nil, nil }

// fakeDirectory names the profiles.
type fakeDirectory struct{ Directory }

func (fakeDirectory) GetWorker(_ context.Context, id string) (*model.Worker, error) {
	return &model.Worker{ID: id, Name: "网格员" + id}, nil
}
func (fakeDirectory) GetPartyMember(_ context.Context, id string) (*model.PartyMember, error) {
	return &model.PartyMember{ID: id, Name: "党员" + id}, nil
}

// A dispatch's target is whom its event names, in the role the transition
// that made it recorded — and for a ticket loaded in bulk (only its last
// version's history record) never the final assignee of every dispatch.
func TestDispatchTargets(t *testing.T) {
	s := &StaffTickets{users: fakeAccounts{
		"u1": {ID: "u1", WorkerID: "w1"}, "u2": {ID: "u2", WorkerID: "w2"}, "u3": {ID: "u3", PartyMemberID: "m3"},
	}, people: fakeDirectory{}}
	timeline := []model.Event{
		{Type: model.EventReported}, {Type: model.EventRegistered},
		{Type: model.EventDispatched, AssigneeID: "u1"}, {Type: model.EventReturned, AssigneeID: "u1"},
		{Type: model.EventDispatched, AssigneeID: "u2"}, {Type: model.EventReassigned, AssigneeID: "u2"},
		{Type: model.EventClaimed, AssigneeID: "u3"},
	}
	full := []model.TicketVersion{
		{Version: 1, Events: 3, AssigneeID: "u1", AssigneeRole: model.RoleGridWorker},
		{Version: 2, Events: 5, AssigneeID: "u2", AssigneeRole: model.RoleGridWorker},
		{Version: 3, Events: 7, AssigneeID: "u3", AssigneeRole: model.RolePartyMember},
	}
	loaded := full[2:] // Load writes the last version's record only
	want := map[int]string{2: "网格员w1", 4: "网格员w2", 6: "党员m3"}
	for name, history := range map[string][]model.TicketVersion{"committed": full, "loaded": loaded} {
		names := s.names()
		for i, e := range timeline {
			w, ok := want[i]
			if !ok {
				continue
			}
			got := s.target(context.Background(), names, history, i, e)
			if got == nil || got.Name != w {
				t.Errorf("%s: event %d (%s) went to %+v, want %s", name, i, e.Type, got, w)
			}
		}
	}
	// An event stored before events named the assignee: the transition's
	// own record says, when there is one.
	old := model.Event{Type: model.EventDispatched}
	if got := s.target(context.Background(), s.names(), full, 2, old); got == nil || got.Name != "网格员w1" {
		t.Errorf("an old event: %+v", got)
	}
	if got := s.target(context.Background(), s.names(), loaded, 2, old); got != nil {
		t.Errorf("an old event of a loaded ticket: %+v, want nobody (unknown)", got)
	}
}
