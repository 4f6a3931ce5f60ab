package sqlite

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// genTickets makes realistic tickets for the plans test and the
// benchmarks: n tickets created over days before end, of every category,
// grid, source and status, with their timelines, as seed-history would.
type genTickets struct {
	r    *rand.Rand
	end  time.Time
	days int
	// from and to, when set, bound the creation times (a window of the
	// span, as seed-history writes a few days at a time).
	from, to time.Time
}

var (
	genCategories = func() []string {
		var out []string
		for i := range 20 {
			out = append(out, fmt.Sprintf("%02d%02d", 1+i/5, 1+i%5))
		}
		return out
	}()
	genWhat   = []string{"井盖破损", "路灯不亮", "垃圾堆积", "占道经营", "乱停车", "违章搭建", "绿化带损坏", "污水外溢", "道路坑洼", "小广告", "噪音扰民", "积水严重", "护栏倒伏", "共享单车乱放", "树木倒伏", "渣土撒漏"}
	genDetail = []string{"已经好几天了", "影响行人通行", "晚上很危险", "请尽快处理", "附近居民反映强烈", "孩子上学路过", "下雨后更严重", "多次反映未解决", ""}
	genRoads  = []string{"中山路", "北京东路", "中华路", "汉中路", "珠江路", "湖南路", "江东中路", "龙蟠路", "虎踞路", "广州路", "上海路", "云南路", "建宁路", "集庆路", "应天大街", "新街口广场"}
	genDists  = []string{"鼓楼区", "玄武区", "秦淮区", "建邺区", "栖霞区", "雨花台区"}
	genNames  = []string{"张*", "王*", "李*", "赵*", "陈*", "刘*"}
)

func newGen(seed uint64, end time.Time, days int) *genTickets {
	return &genTickets{r: rand.New(rand.NewPCG(seed, 7)), end: end, days: days}
}

func (g *genTickets) pick(ss []string) string { return ss[g.r.IntN(len(ss))] }

// ticket makes the i-th ticket: created at a random moment of the span,
// taken through its life as far as its age and chance allow.
func (g *genTickets) ticket() *model.Ticket {
	r := g.r
	span := time.Duration(g.days) * 24 * time.Hour
	at := g.end.Add(-time.Duration(r.Int64N(int64(span)))).Truncate(time.Millisecond)
	if !g.from.IsZero() {
		at = g.from.Add(time.Duration(r.Int64N(int64(g.to.Sub(g.from))))).Truncate(time.Millisecond)
	}
	grid := r.IntN(200)
	gridCode := fmt.Sprintf("320106%03d", grid)
	community := fmt.Sprintf("社区%02d", grid/5)
	src := model.SourceWeChat
	switch x := r.IntN(20); {
	case x == 0:
		src = model.SourceOpen311
	case x < 3:
		src = model.SourceHotline
	case x < 6:
		src = model.SourcePatrol
	}
	lat, lng := 31.95+r.Float64()*0.15, 118.70+r.Float64()*0.2
	tk := &model.Ticket{
		ID: model.NewID(at), ReporterID: fmt.Sprintf("u%06d", r.IntN(60000)), Category: g.pick(genCategories),
		Description: g.pick(genWhat) + "，" + g.pick(genDetail),
		Location:    model.Location{Lat: lat, Lng: lng, CoordType: model.CoordGCJ02}, Point: model.Point{Lat: lat, Lng: lng},
		Address:  g.pick(genDists) + g.pick(genRoads) + fmt.Sprintf("%d号", 1+r.IntN(300)),
		PhotoIDs: []string{model.NewID(at), model.NewID(at)}, Source: src,
	}
	if src == model.SourceHotline {
		tk.CallerName, tk.CallerPhone = g.pick(genNames), fmt.Sprintf("138%08d", r.IntN(1e8))
	}
	_ = tk.Report(model.Act{At: at, By: model.Actor{ID: tk.ReporterID, Role: model.RoleResident}})
	age := g.end.Sub(at)
	now := at
	later := func(d time.Duration) bool {
		now = now.Add(d/2 + time.Duration(r.Int64N(int64(d))))
		return now.Before(g.end)
	}
	stepOK := func(err error) bool {
		if err != nil {
			return false
		}
		tk.Version++
		return true
	}
	sla := model.SLA{Hours: []int{4, 24, 48, 72}[r.IntN(4)]}
	w := model.Actor{ID: fmt.Sprintf("w%03d", grid*2+r.IntN(2)), Role: model.RoleGridWorker, Name: g.pick(genNames)}
	sys := model.Actor{}
	switch {
	case age < 10*time.Minute || r.IntN(200) == 0:
		if r.IntN(3) == 0 && later(time.Minute) {
			stepOK(tk.Hold(model.Act{At: now, By: sys}))
		}
		return tk
	case r.IntN(40) == 0:
		if later(time.Minute) {
			stepOK(tk.Reject(model.Act{At: now, By: sys, Note: "重复或无效"}))
		}
		return tk
	}
	if !later(2*time.Minute) || !stepOK(tk.Register(model.Act{At: now, By: sys}, sla)) {
		return tk
	}
	routing := model.Routing{GridCode: gridCode, Community: community, Assignee: w, AcceptBy: now.Add(time.Hour), Pool: r.IntN(10) == 0}
	if r.IntN(25) == 0 {
		routing.Assignee = model.Actor{}
	}
	if !later(time.Minute) || !stepOK(tk.Route(model.Act{At: now, By: sys}, routing)) || tk.AssigneeID == "" {
		return tk
	}
	if r.IntN(15) == 0 && later(30*time.Minute) {
		if !stepOK(tk.Return(model.Act{At: now, By: w, Note: "不属于本网格"}, 3)) {
			return tk
		}
		w2 := model.Actor{ID: fmt.Sprintf("w%03d", r.IntN(400)), Role: model.RoleGridWorker, Name: g.pick(genNames)}
		if !later(10*time.Minute) || !stepOK(tk.Dispatch(model.Act{At: now, By: model.Actor{ID: "staff1", Role: model.RoleStaff}}, w2, now.Add(time.Hour), sla)) {
			return tk
		}
		w = w2
	}
	if !later(20*time.Minute) || !stepOK(tk.Accept(model.Act{At: now, By: w})) {
		return tk
	}
	work := time.Duration(sla.Hours) * time.Hour / 2
	if r.IntN(8) == 0 {
		work = time.Duration(sla.Hours) * time.Hour * 2
	}
	if !tk.DueAt.IsZero() && now.Add(work).After(tk.DueAt) {
		at := tk.DueAt.Add(time.Minute)
		if at.Before(now) {
			at = now
		}
		if at.Before(g.end) {
			now = at
			stepOK(tk.Escalate(model.Act{At: now, By: sys}))
		}
	}
	if !later(work) || !stepOK(tk.Resolve(model.Act{At: now, By: w, Note: "已处理完毕"}, []string{model.NewID(now)}, nil)) {
		return tk
	}
	if !later(6 * time.Hour) {
		return tk
	}
	switch r.IntN(10) {
	case 0:
		stepOK(tk.Reopen(model.Act{At: now, By: model.Actor{ID: tk.ReporterID, Role: model.RoleResident}}, model.Feedback{Rating: 2, Comment: "没修好"}, sla))
	case 1, 2, 3:
		stepOK(tk.Confirm(model.Act{At: now, By: model.Actor{ID: tk.ReporterID, Role: model.RoleResident}}, model.Feedback{Satisfied: true, Rating: 5}))
	default:
		now = tk.Resolution.ResolvedAt.Add(72 * time.Hour)
		if now.Before(g.end) {
			stepOK(tk.Close(model.Act{At: now, By: sys}, 72*time.Hour))
		}
	}
	return tk
}

func (g *genTickets) batch(n int) []*model.Ticket {
	out := make([]*model.Ticket, n)
	for i := range out {
		out[i] = g.ticket()
	}
	return out
}

// window makes n tickets created in the k-th of parts equal windows of the
// span, oldest first.
func (g *genTickets) window(n, k, parts int) []*model.Ticket {
	span := time.Duration(g.days) * 24 * time.Hour
	start := g.end.Add(-span)
	g.from, g.to = start.Add(span*time.Duration(k)/time.Duration(parts)), start.Add(span*time.Duration(k+1)/time.Duration(parts))
	defer func() { g.from, g.to = time.Time{}, time.Time{} }()
	return g.batch(n)
}
