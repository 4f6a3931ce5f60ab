package seed

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/people"
)

// The demo's city is a lattice of grids in Nanjing's 鼓楼区, two to a
// community.
const (
	originLat, originLng = 32.030, 118.760 // south-west corner, WGS-84
	cellLat, cellLng     = 0.0060, 0.0070  // about 670 m square
	district             = DemoDistrict
)

// DemoDistrict is where the demo's city lies; its addresses start with it.
const DemoDistrict = "南京市鼓楼区"

var communityNames = []string{"幸福里社区", "龙江社区", "凤凰社区", "清凉门社区", "虎踞社区", "宁海路社区", "湖南路社区", "中央门社区",
	"挹江门社区", "热河南路社区", "小市社区", "建宁路社区", "江东社区", "草场门社区", "华侨路社区", "山西路社区"}

var ordinals = []string{"一", "二", "三", "四", "五", "六"}

var branchNames = []string{"城管局机关第一党支部", "城管局机关第二党支部", "综合执法大队党支部", "环境卫生管理所党支部", "市政设施管理所党支部"}

var surnames = []rune("张王李赵刘陈杨黄吴周徐孙马朱胡郭何高林罗郑梁谢宋唐韩冯邓曹彭曾")
var givenNames = []string{"伟", "芳", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
	"秀英", "建华", "建国", "志强", "海燕", "晓东", "桂英", "玉兰", "文博", "子涵", "思远", "雨欣", "国庆", "红梅"}

// name returns the i-th name of a deterministic roster.
func name(i int) string {
	return string(surnames[i%len(surnames)]) + givenNames[(i*7+i/len(surnames))%len(givenNames)]
}

// Login is an account function for LayOut and Demo that logs a WeChat
// user in by login code through auth (the simulated WeChat), one client
// address per code (the per-address login limit is for the public).
func Login(auth *people.Auth) func(ctx context.Context, code string) (*model.User, error) {
	return func(ctx context.Context, code string) (*model.User, error) {
		sess, err := auth.LoginWeChat(ctx, code, "10.77."+code)
		if err != nil {
			return nil, fmt.Errorf("login %s: %w", code, err)
		}
		return sess.User, nil
	}
}

// LayOut lays the demo's city out through the services, as staff and the
// people themselves would: size.Grids grids two to a community, size.Workers
// grid workers (and one invited, not yet bound) and size.Members party
// members in branches, each bound to the WeChat user account gives for
// its login code and on duty or not. It returns what it made (grids,
// communities, workers, members, branches). Errors: those of the services.
func LayOut(ctx context.Context, svc Services, size Size, account func(ctx context.Context, code string) (*model.User, error)) (*Result, error) {
	l := &layout{svc: svc, size: size, account: account}
	if err := l.run(ctx); err != nil {
		return nil, err
	}
	return &Result{Grids: l.grids, Communities: len(l.communities), Workers: l.workers, Members: l.members, Branches: l.branches}, nil
}

// layout is a city being laid out.
type layout struct {
	svc     Services
	size    Size
	account func(ctx context.Context, code string) (*model.User, error)

	communities []string
	membersOf   map[string][]*model.User // community → bound members
	allMembers  []*model.User
	codes       []string

	grids, workers, members, branches int
}

func (l *layout) run(ctx context.Context) error {
	for _, f := range []func(context.Context) error{l.layGrids, l.layWorkers, l.layMembers} {
		if err := f(ctx); err != nil {
			return err
		}
	}
	return nil
}

// cell is one grid of the demo's lattice.
type cell struct {
	code, name, community string
	minLat, minLng        float64
}

// lattice is the demo city's n grids: rows of cells about 670 m square,
// two to a community.
func lattice(n int) []cell {
	cols := int(math.Ceil(math.Sqrt(float64(n) * 1.5)))
	var out []cell
	for i := range n {
		row, col := i/cols, i%cols
		community := communityNames[(i/2)%len(communityNames)]
		if i/2 >= len(communityNames) {
			community = fmt.Sprintf("%s%d", community, i/2/len(communityNames)+1)
		}
		out = append(out, cell{code: fmt.Sprintf("320106%03d%03d%03d", 1+i/8, 1+i/2, 1+i%2), community: community,
			name:   fmt.Sprintf("%s第%s网格", strings.TrimSuffix(community, "社区"), ordinals[i%2]),
			minLat: originLat + float64(row)*cellLat, minLng: originLng + float64(col)*cellLng})
	}
	return out
}

func (l *layout) layGrids(ctx context.Context) error {
	var features []string
	for _, g := range lattice(l.size.Grids) {
		l.codes = append(l.codes, g.code)
		if len(l.communities) == 0 || l.communities[len(l.communities)-1] != g.community {
			l.communities = append(l.communities, g.community)
		}
		a, b := g.minLng, g.minLat
		c, d := a+cellLng, b+cellLat
		features = append(features, fmt.Sprintf(`{"type":"Feature","properties":{"code":%q,"name":%q,"community":%q},`+
			`"geometry":{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}}`,
			g.code, g.name, g.community, a, b, c, b, c, d, a, d, a, b))
	}
	body := `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
	if _, err := l.svc.Grids.Upload(ctx, []byte(body)); err != nil {
		return err
	}
	l.grids = len(l.codes)
	return nil
}

// bind makes the user of login code, redeems an invite and goes on duty
// (or not).
func (l *layout) bind(ctx context.Context, code, invite string, onDuty bool) (*model.User, error) {
	u, err := l.account(ctx, code)
	if err != nil {
		return nil, err
	}
	if u, err = l.svc.Auth.Bind(ctx, u, invite); err != nil {
		return nil, fmt.Errorf("bind %s: %w", code, err)
	}
	if u, err = l.svc.Auth.SetDuty(ctx, u, onDuty); err != nil {
		return nil, fmt.Errorf("duty %s: %w", code, err)
	}
	return u, nil
}

func (l *layout) layWorkers(ctx context.Context) error {
	n := len(l.codes)
	for i := range l.size.Workers {
		codes := []string{l.codes[i%n]}
		if i >= n && i%3 == 0 && n > 1 {
			codes = append(codes, l.codes[(i+1)%n]) // some cover a neighbour too
		}
		inv, err := l.svc.People.CreateWorker(ctx, model.Worker{Name: name(i), Phone: fmt.Sprintf("139%08d", 10000+i), GridCodes: codes})
		if err != nil {
			return err
		}
		// A few are off duty; the last grid's only worker is, so that its
		// reports wait for staff and the party members.
		onDuty := i%11 != 5 && !(i == n-1 && l.size.Workers <= n+1)
		if _, err := l.bind(ctx, fmt.Sprintf("seed-worker-%d", i), inv.InviteCode, onDuty); err != nil {
			return err
		}
	}
	// One more, invited but not yet bound: the directory shows it.
	if _, err := l.svc.People.CreateWorker(ctx, model.Worker{Name: "新入职" + name(l.size.Workers),
		Phone: fmt.Sprintf("139%08d", 10000+l.size.Workers), GridCodes: []string{l.codes[0]}}); err != nil {
		return err
	}
	l.workers = l.size.Workers + 1
	return nil
}

func (l *layout) layMembers(ctx context.Context) error {
	l.membersOf = map[string][]*model.User{}
	nb := min(len(branchNames), max(1, l.size.Members/4))
	var branches []string
	for i := range nb {
		b, err := l.svc.People.CreateBranch(ctx, branchNames[i])
		if err != nil {
			return err
		}
		branches = append(branches, b.ID)
	}
	for i := range l.size.Members {
		communities := []string{l.communities[i%len(l.communities)]}
		if i%2 == 1 && len(l.communities) > 1 {
			communities = append(communities, l.communities[(i+1)%len(l.communities)])
		}
		inv, err := l.svc.People.CreatePartyMember(ctx, model.PartyMember{Name: name(100 + i), Phone: fmt.Sprintf("137%08d", 20000+i),
			BranchID: branches[i%len(branches)], Communities: communities})
		if err != nil {
			return err
		}
		u, err := l.bind(ctx, fmt.Sprintf("seed-member-%d", i), inv.InviteCode, i%5 != 4)
		if err != nil {
			return err
		}
		l.allMembers = append(l.allMembers, u)
		for _, c := range communities {
			l.membersOf[c] = append(l.membersOf[c], u)
		}
	}
	l.members, l.branches = l.size.Members, nb
	return nil
}
