package redis

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/citizen-city/chengguantong/model"
)

// TaskIndex is the open-ticket index the hot paths read instead of
// querying MongoDB: each assignee's open tasks (a sorted set of ticket ids,
// whose size is the load routing balances) and the open registered tickets
// by position (a geo set, for duplicates and /reports/nearby).
//
// MongoDB stays the record. Every committed transition syncs the index
// (Tickets.Update), a sync carries the ticket's version so that a delayed
// one never undoes a later one, and the dispatch reconciler rebuilds the
// index from MongoDB's open tickets at start-up and every minute. Until a
// rebuild has completed — a fresh or flushed Redis — readers fall back to
// MongoDB queries. Readers load the listed tickets by _id and check them,
// so an entry left behind by a crash between commit and sync is never
// shown; the next rebuild prunes it.
//
// All keys carry the {tasks} hash tag: the sync script touches several.
type TaskIndex struct {
	r        *Redis
	base     string // "<prefix>{tasks}:"
	geo      string
	built    string
	assigned string // the set of assignees that have (had) a task set
}

// NewTaskIndex returns the index over r.
func NewTaskIndex(r *Redis) *TaskIndex {
	base := r.Key("{tasks}", "")
	return &TaskIndex{r: r, base: base, geo: base + "geo", built: base + "built", assigned: base + "assignees"}
}

func (x *TaskIndex) tasksKey(user string) string { return x.base + "a:" + user }
func (x *TaskIndex) stateKey(id string) string   { return x.base + "s:" + id }

// geoMember names a ticket in the geo set; the category comes first so
// that a duplicate search skips other categories without loading them.
func geoMember(category, id string) string { return category + "|" + id }

// taskIndexTombstone is how long a ticket that left the index keeps its
// version, so that a sync delayed by that much cannot put it back.
const taskIndexTombstone = 24 * time.Hour

// syncScript moves one ticket to where its state says, if the state is
// newer than what the index holds. KEYS: the ticket's state key, the geo
// set, the assignee registry. ARGV: version, assignee ("" when not an open
// task), in the geo set ("1"/"0"), lng, lat, geo member, ticket id, the
// task-set key prefix, now in ms, tombstone seconds.
var syncScript = goredis.NewScript(`
local v = tonumber(ARGV[1])
local st = redis.call('GET', KEYS[1])
if st then
  local sv, sa = string.match(st, '^(%d+)|([^|]*)|')
  if sv and tonumber(sv) >= v then return 0 end
  if sa and sa ~= '' and sa ~= ARGV[2] then redis.call('ZREM', ARGV[8] .. sa, ARGV[7]) end
end
if ARGV[2] ~= '' then
  redis.call('ZADD', ARGV[8] .. ARGV[2], 0, ARGV[7])
  redis.call('SADD', KEYS[3], ARGV[2])
end
if ARGV[3] == '1' then
  redis.call('GEOADD', KEYS[2], ARGV[4], ARGV[5], ARGV[6])
else
  redis.call('ZREM', KEYS[2], ARGV[6])
end
local state = ARGV[1] .. '|' .. ARGV[2] .. '|' .. ARGV[9]
if ARGV[2] == '' and ARGV[3] ~= '1' then
  redis.call('SET', KEYS[1], state, 'EX', ARGV[10])
else
  redis.call('SET', KEYS[1], state)
end
return 1`)

var (
	TaskStatuses = []model.Status{model.StatusDispatched, model.StatusInProgress}
	GeoStatuses  = []model.Status{model.StatusPending, model.StatusDispatched, model.StatusInProgress}
)

// Sync puts t where its committed state says: in its assignee's task set
// while dispatched or in progress, in the geo set while registered and
// open, nowhere otherwise.
func (x *TaskIndex) Sync(ctx context.Context, t *model.Ticket) error {
	assignee := ""
	if t.AssigneeID != "" && slices.Contains(TaskStatuses, t.Status) {
		assignee = t.AssigneeID
	}
	inGeo := "0"
	if slices.Contains(GeoStatuses, t.Status) {
		inGeo = "1"
	}
	err := syncScript.Run(ctx, x.r.Client, []string{x.stateKey(t.ID), x.geo, x.assigned},
		t.Version, assignee, inGeo, t.Point.Lng, t.Point.Lat, geoMember(t.Category, t.ID), t.ID,
		x.base+"a:", time.Now().UnixMilli(), int(taskIndexTombstone/time.Second)).Err()
	if err != nil {
		return fmt.Errorf("sync task index: %w", Translate(err))
	}
	return nil
}

// Built reports whether a rebuild has completed since Redis last lost the
// index; readers fall back to MongoDB until then.
func (x *TaskIndex) Built(ctx context.Context) (bool, error) {
	n, err := x.r.Client.Exists(ctx, x.built).Result()
	if err != nil {
		return false, fmt.Errorf("task index: %w", Translate(err))
	}
	return n == 1, nil
}

// Loads returns how many open tasks each user has.
func (x *TaskIndex) Loads(ctx context.Context, users []string) (map[string]int, error) {
	cmds := make([]*goredis.IntCmd, len(users))
	_, err := x.r.Client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, u := range users {
			cmds[i] = p.ZCard(ctx, x.tasksKey(u))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("task loads: %w", Translate(err))
	}
	out := make(map[string]int, len(users))
	for i, u := range users {
		out[u] = int(cmds[i].Val())
	}
	return out, nil
}

// Assigned returns up to limit of a user's open task ids, newest first,
// before cursor (an id; "" for the first page).
func (x *TaskIndex) Assigned(ctx context.Context, user, cursor string, limit int) ([]string, error) {
	max := "+"
	if cursor != "" {
		max = "(" + cursor
	}
	ids, err := x.r.Client.ZRevRangeByLex(ctx, x.tasksKey(user), &goredis.ZRangeBy{Max: max, Min: "-", Count: int64(limit)}).Result()
	if err != nil {
		return nil, fmt.Errorf("assigned tasks: %w", Translate(err))
	}
	return ids, nil
}

// Near returns the ids of open registered tickets within radius metres of
// p, nearest first, of one category ("" for any).
func (x *TaskIndex) Near(ctx context.Context, p model.Point, radiusM float64, category string, limit int) ([]string, error) {
	members, err := x.r.Client.GeoSearch(ctx, x.geo, &goredis.GeoSearchQuery{
		Longitude: p.Lng, Latitude: p.Lat, Radius: radiusM, RadiusUnit: "m", Sort: "ASC", Count: limit,
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("tickets near: %w", Translate(err))
	}
	var ids []string
	for _, m := range members {
		cat, id, ok := strings.Cut(m, "|")
		if ok && (category == "" || cat == category) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// pruneScript removes one indexed entry that a rebuild did not find open,
// unless a sync touched the ticket after the rebuild began. KEYS: the set
// holding it, the ticket's state key. ARGV: member, rebuild start in ms,
// tombstone seconds.
var pruneScript = goredis.NewScript(`
local st = redis.call('GET', KEYS[2])
if st then
  local at = tonumber(string.match(st, '|(%d+)$'))
  if at and at >= tonumber(ARGV[2]) then return 0 end
  redis.call('EXPIRE', KEYS[2], ARGV[3])
end
return redis.call('ZREM', KEYS[1], ARGV[1])`)

// BeginRebuild starts a reconciler pass over MongoDB's open tickets: the
// pass syncs each of them, then calls FinishRebuild with the time this
// returned and the ids it found open.
func (x *TaskIndex) BeginRebuild() time.Time { return time.Now() }

// FinishRebuild prunes what the pass did not find open (unless a sync
// touched it since the pass began) and marks the index built. It returns
// how many entries it pruned.
func (x *TaskIndex) FinishRebuild(ctx context.Context, began time.Time, open map[string]bool) (int, error) {
	c := x.r.Client
	pruned := 0
	prune := func(key, member, id string) error {
		if open[id] {
			return nil
		}
		n, err := pruneScript.Run(ctx, c, []string{key, x.stateKey(id)}, member, began.UnixMilli(), int(taskIndexTombstone/time.Second)).Int()
		pruned += n
		return err
	}
	users, err := c.SMembers(ctx, x.assigned).Result()
	if err != nil {
		return 0, fmt.Errorf("rebuild task index: %w", Translate(err))
	}
	for _, u := range users {
		ids, err := c.ZRange(ctx, x.tasksKey(u), 0, -1).Result()
		if err != nil {
			return pruned, fmt.Errorf("rebuild task index: %w", Translate(err))
		}
		for _, id := range ids {
			if err := prune(x.tasksKey(u), id, id); err != nil {
				return pruned, fmt.Errorf("rebuild task index: %w", Translate(err))
			}
		}
	}
	members, err := c.ZRange(ctx, x.geo, 0, -1).Result()
	if err != nil {
		return pruned, fmt.Errorf("rebuild task index: %w", Translate(err))
	}
	for _, m := range members {
		_, id, _ := strings.Cut(m, "|")
		if err := prune(x.geo, m, id); err != nil {
			return pruned, fmt.Errorf("rebuild task index: %w", Translate(err))
		}
	}
	if err := c.Set(ctx, x.built, strconv.FormatInt(began.UnixMilli(), 10), 0).Err(); err != nil {
		return pruned, fmt.Errorf("rebuild task index: %w", Translate(err))
	}
	return pruned, nil
}
