package seed

import (
	"context"
	"slices"
	"time"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/people"
)

var activityKinds = []struct{ kind, title string }{
	{"volunteer", "环境整治志愿服务"}, {"theme", "“党建引领·美丽家园”主题实践"}, {"joint_enforcement", "占道经营联合执法"},
	{"volunteer", "文明养犬宣传志愿服务"}, {"theme", "垃圾分类主题宣传"}, {"joint_enforcement", "违停整治联合行动"},
}

// action is one thing that happens at a time, on the services' clock.
type action struct {
	at time.Time
	fn func(ctx context.Context) error
}

// activities lets the month's volunteer activities happen through the
// services in time order, the clock moved to each step: staff create each
// two days ahead, party members check in around its start. It returns how
// many activities and check-ins there were.
func (l *layout) activities(ctx context.Context, clock *Clock, start, end time.Time) (int, int, error) {
	var queue []action
	at := func(t time.Time, fn func(ctx context.Context) error) {
		if !t.After(end) {
			queue = append(queue, action{t, fn})
		}
	}
	created, checkins := 0, 0
	shanghai := model.ChinaTime()
	for i := range l.size.Activities {
		k := activityKinds[i%len(activityKinds)]
		community := l.communities[(i*3)%len(l.communities)]
		day := start.Add(time.Duration(1+i*(l.size.Days-1)/max(1, l.size.Activities)) * 24 * time.Hour).In(shanghai)
		begins := time.Date(day.Year(), day.Month(), day.Day(), 9+5*(i%2), 30, 0, 0, shanghai)
		ends := begins.Add(time.Duration(2+i%2) * time.Hour)
		if ends.After(end) {
			continue
		}
		in := people.ActivityInput{Title: trimTitle(communityShort(community) + k.title), Kind: k.kind, Community: community,
			StartsAt: begins.Format(time.RFC3339), EndsAt: ends.Format(time.RFC3339)}
		var a *model.Activity
		at(maxTime(start, begins.Add(-48*time.Hour)), func(ctx context.Context) error {
			var err error
			if a, err = l.svc.Activities.Create(ctx, l.svc.Staff, in); err != nil {
				return err
			}
			created++
			return nil
		})
		// Its community's members first, then others; three to eight.
		attendees := append(slices.Clone(l.membersOf[community]), l.allMembers...)
		n := min(len(attendees), 3+(i*5)%6)
		seen := map[string]bool{}
		for j, u := range attendees {
			if n == 0 {
				break
			}
			if seen[u.ID] {
				continue
			}
			seen[u.ID] = true
			n--
			at(begins.Add(time.Duration(j*7%60-20)*time.Minute), func(ctx context.Context) error {
				if _, first, err := l.svc.Activities.CheckIn(ctx, u, a.ID); err != nil {
					return err
				} else if first {
					checkins++
				}
				return nil
			})
		}
	}
	slices.SortStableFunc(queue, func(a, b action) int { return a.at.Compare(b.at) })
	for _, a := range queue {
		clock.Set(a.at)
		if err := a.fn(ctx); err != nil {
			return created, checkins, err
		}
	}
	return created, checkins, nil
}

func communityShort(c string) string {
	r := []rune(c)
	if len(r) > 2 && string(r[len(r)-2:]) == "社区" {
		return string(r[:len(r)-2])
	}
	return c
}

func trimTitle(s string) string {
	r := []rune(s)
	if len(r) > 50 {
		return string(r[:50])
	}
	return s
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
