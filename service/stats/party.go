package stats

import (
	"context"
	"sort"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// ActivityFigures reads the volunteer activities and their check-ins.
type ActivityFigures interface {
	CountActivities(ctx context.Context, from, to time.Time) (map[string]int64, error)
	CheckinsBetween(ctx context.Context, from, to time.Time) ([]model.Checkin, error)
}

// BranchGetter loads party branches.
type BranchGetter interface {
	GetBranch(ctx context.Context, id string) (*model.Branch, error)
}

// PartyBuilding returns the party-building figures (党建统计) of a period:
// tickets resolved with party members, participations (人次) — each
// claim-and-resolve and each activity check-in is one — distinct members,
// and activities, by branch and by member.
func (s *Service) PartyBuilding(ctx context.Context, p Period) (*PartyBuilding, error) {
	byUser, total, err := s.MemberRows(ctx, p)
	if err != nil {
		return nil, err
	}
	out := &PartyBuilding{Period: p, ResolvedWithPartyMembers: total.PartyResolved, ActivitiesByKind: map[string]int64{}}
	members := map[string]*MemberFigures{} // by party-member profile id
	member := func(profileID string) *MemberFigures {
		m := members[profileID]
		if m == nil {
			m = &MemberFigures{MemberID: profileID}
			members[profileID] = m
		}
		return m
	}
	branchOf := map[string]string{} // profile → branch
	for userID, v := range byUser {
		profileID := userID
		if u, err := s.names.Users.Get(ctx, userID); err == nil && u.PartyMemberID != "" {
			profileID = u.PartyMemberID
		}
		m := member(profileID)
		m.Participations += v.Participations
		m.Resolved += v.PartyResolved
		out.Participations += v.Participations
	}
	from, to := p.From, p.To.AddDate(0, 0, 1)
	if s.activities != nil {
		kinds, err := s.activities.CountActivities(ctx, from, to)
		if err != nil {
			return nil, err
		}
		for k, n := range kinds {
			out.ActivitiesByKind[k] = n
			out.Activities += n
		}
		checkins, err := s.activities.CheckinsBetween(ctx, from, to)
		if err != nil {
			return nil, err
		}
		for _, c := range checkins {
			member(c.MemberID).Participations++
			if c.BranchID != "" {
				branchOf[c.MemberID] = c.BranchID
			}
		}
		out.ActivityParticipations = int64(len(checkins))
		out.Participations += out.ActivityParticipations
	}

	branches := map[string]*BranchFigures{}
	for id, m := range members {
		if prof, err := s.names.Members.GetPartyMember(ctx, id); err == nil {
			m.Name = prof.Name
			if branchOf[id] == "" {
				branchOf[id] = prof.BranchID
			}
		}
		bid := branchOf[id]
		b := branches[bid]
		if b == nil {
			b = &BranchFigures{BranchID: bid}
			if br, err := s.branches.GetBranch(ctx, bid); err == nil {
				b.Name = br.Name
			}
			branches[bid] = b
		}
		m.BranchName = b.Name
		if m.Participations > 0 {
			out.DistinctMembers++
			b.DistinctMembers++
		}
		b.Participations += m.Participations
		b.Resolved += m.Resolved
		out.Members = append(out.Members, *m)
	}
	for _, b := range branches {
		out.Branches = append(out.Branches, *b)
	}
	sort.Slice(out.Members, func(a, b int) bool {
		if out.Members[a].Participations != out.Members[b].Participations {
			return out.Members[a].Participations > out.Members[b].Participations
		}
		return out.Members[a].MemberID < out.Members[b].MemberID
	})
	sort.Slice(out.Branches, func(a, b int) bool {
		if out.Branches[a].Participations != out.Branches[b].Participations {
			return out.Branches[a].Participations > out.Branches[b].Participations
		}
		return out.Branches[a].BranchID < out.Branches[b].BranchID
	})
	return out, nil
}
