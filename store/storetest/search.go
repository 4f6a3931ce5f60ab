package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
)

// The search group: ListStaff's Words (substrings of the description or
// the address, each word, Latin letters in any case) and Ref (an id or a
// case number), alone and with the other filters, sorts and pages.

func runSearch(t *testing.T, open Open) {
	t.Parallel()
	s := open(t)("a").Tickets
	texts := []struct{ name, desc, addr string }{
		{"manhole", "井盖破损，有人差点掉下去", "鼓楼区中山北路 12 号"},
		{"lamp", "路灯不亮已经三天", "玄武区北京东路 41 号"},
		{"both", "井盖旁边的路灯倒了", "秦淮区中华路"},
		{"latin", "Broken LED streetlight near KFC", "Xinjiekou Plaza, Gate B"},
		{"trash", "垃圾桶满了", "建邺区江东中路"},
		{"quote", `标语写着"禁止停车"`, "鼓楼区湖南路"},
	}
	byName := map[string]*model.Ticket{}
	for i, x := range texts {
		tk := mustInsert(t, s, report(base.Add(time.Duration(i)*time.Minute), func(tk *model.Ticket) {
			tk.Description, tk.Address = x.desc, x.addr
		}))
		if x.name == "lamp" || x.name == "both" {
			tk = life(t, s, tk, "g1", worker("w1"), 2)
		}
		byName[x.name] = tk
	}
	names := func(ts []*model.Ticket) []string {
		var out []string
		for _, tk := range ts {
			for n, x := range byName {
				if x.ID == tk.ID {
					out = append(out, n)
				}
			}
		}
		return out
	}
	search := func(q model.TicketQuery, limit int) ([]string, int64) {
		t.Helper()
		var out []string
		cursor := ""
		var total int64
		for range 10 {
			p, err := s.ListStaff(ctx, q, cursor, limit)
			if err != nil {
				t.Fatalf("ListStaff(%+v): %v", q, err)
			}
			out, total = append(out, names(p.Items)...), p.Total
			if p.Next == "" {
				break
			}
			cursor = p.Next
		}
		return out, total
	}
	for _, c := range []struct {
		name string
		q    model.TicketQuery
		want []string // newest first unless the query sorts otherwise
	}{
		{"one character", model.TicketQuery{Words: []string{"灯"}}, []string{"both", "lamp"}},
		{"one character, the address", model.TicketQuery{Words: []string{"秦"}}, []string{"both"}},
		{"two characters", model.TicketQuery{Words: []string{"井盖"}}, []string{"both", "manhole"}},
		{"two characters, the address", model.TicketQuery{Words: []string{"鼓楼"}}, []string{"quote", "manhole"}},
		{"two characters, not adjacent", model.TicketQuery{Words: []string{"井灯"}}, nil},
		{"three characters", model.TicketQuery{Words: []string{"不亮已"}}, []string{"lamp"}},
		{"a long phrase", model.TicketQuery{Words: []string{"有人差点掉下去"}}, []string{"manhole"}},
		{"across description and address: no", model.TicketQuery{Words: []string{"下去鼓楼"}}, nil},
		{"two words, each somewhere", model.TicketQuery{Words: []string{"井盖", "中华路"}}, []string{"both"}},
		{"a short and a long word", model.TicketQuery{Words: []string{"灯", "北京东路"}}, []string{"lamp"}},
		{"two short words", model.TicketQuery{Words: []string{"灯", "井"}}, []string{"both"}},
		{"Latin in another case", model.TicketQuery{Words: []string{"streetLIGHT"}}, []string{"latin"}},
		{"Latin, short", model.TicketQuery{Words: []string{"kf"}}, []string{"latin"}},
		{"Latin, one letter", model.TicketQuery{Words: []string{"B"}}, []string{"latin"}},
		{"a number in the address", model.TicketQuery{Words: []string{"41"}}, []string{"lamp"}},
		{"a quote", model.TicketQuery{Words: []string{`"禁止停车"`}}, []string{"quote"}},
		{"nothing", model.TicketQuery{Words: []string{"消防栓"}}, nil},
		{"with a status", model.TicketQuery{Words: []string{"井盖"}, Statuses: []model.Status{model.StatusSubmitted}}, []string{"manhole"}},
		{"with a grid", model.TicketQuery{Words: []string{"灯"}, Grid: "g1"}, []string{"both", "lamp"}},
		{"with a range", model.TicketQuery{Words: []string{"区"}, From: base.Add(time.Minute), To: base.Add(4 * time.Minute)}, []string{"both", "lamp"}},
		{"oldest first", model.TicketQuery{Words: []string{"区"}, Sort: model.SortOldest}, []string{"manhole", "lamp", "both", "trash", "quote"}},
		{"by deadline", model.TicketQuery{Words: []string{"路"}, Sort: model.SortDue}, []string{"lamp", "both", "manhole", "trash", "quote"}},
		{"ref alone", model.TicketQuery{Ref: byName["trash"].CaseNo}, []string{"trash"}},
		{"ref or words", model.TicketQuery{Ref: byName["trash"].ID, Words: []string{"井盖"}}, []string{"trash", "both", "manhole"}},
		{"ref or words, oldest first", model.TicketQuery{Ref: byName["trash"].ID, Words: []string{"井盖"}, Sort: model.SortOldest}, []string{"manhole", "both", "trash"}},
	} {
		for _, limit := range []int{1, 50} {
			got, total := search(c.q, limit)
			if !slices.Equal(got, c.want) || total != int64(len(c.want)) {
				t.Errorf("%s (limit %d): %v total %d; want %v", c.name, limit, got, total, c.want)
			}
		}
	}
}
