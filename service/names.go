package service

import (
	"context"

	"github.com/citizen-city/chengguantong/model"
)

// WorkerGetter loads grid-worker profiles.
type WorkerGetter interface {
	GetWorker(ctx context.Context, id string) (*model.Worker, error)
}

// Names gives the masked name (张**) a resident may see of the worker or
// party member handling their report.
type Names struct {
	Users   UserGetter
	Workers WorkerGetter
	Members MemberGetter
}

// Masked returns the masked name of a user acting in role, or "" when
// unknown; a lookup failure never stops the work.
func (n *Names) Masked(ctx context.Context, userID string, role model.Role) string {
	if n == nil || userID == "" {
		return ""
	}
	u, err := n.Users.Get(ctx, userID)
	if err != nil {
		return ""
	}
	switch {
	case role == model.RoleGridWorker && u.WorkerID != "":
		if w, err := n.Workers.GetWorker(ctx, u.WorkerID); err == nil {
			return model.MaskName(w.Name)
		}
	case role == model.RolePartyMember && u.PartyMemberID != "":
		if m, err := n.Members.GetPartyMember(ctx, u.PartyMemberID); err == nil {
			return model.MaskName(m.Name)
		}
	}
	return ""
}

// Full returns the full name of a worker or party member for staff's
// statistics, or the user id when unknown.
func (n *Names) Full(ctx context.Context, userID string) string {
	if n == nil {
		return userID
	}
	u, err := n.Users.Get(ctx, userID)
	if err != nil {
		return userID
	}
	if u.WorkerID != "" {
		if w, err := n.Workers.GetWorker(ctx, u.WorkerID); err == nil {
			return w.Name
		}
	}
	if u.PartyMemberID != "" {
		if m, err := n.Members.GetPartyMember(ctx, u.PartyMemberID); err == nil {
			return m.Name
		}
	}
	return userID
}
