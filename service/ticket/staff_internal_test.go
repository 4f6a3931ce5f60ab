package ticket

import (
	"testing"

	"github.com/citizen-city/chengguantong/model"
)

// TestUnmask: staff read a note's masked names in full, the longer mask
// first, and a resident is never unmasked.
func TestUnmask(t *testing.T) {
	zhangSan := &Person{Name: "张三", Role: model.RoleGridWorker}
	zhangSanFeng := &Person{Name: "张三丰", Role: model.RolePartyMember}
	resident := &Person{Name: "李四", Role: model.RoleResident}
	for _, c := range []struct {
		note string
		who  []*Person
		want string
	}{
		{"已派遣至网格员张*处置", []*Person{zhangSan}, "已派遣至网格员张三处置"},
		{"由张**转交张*", []*Person{zhangSan, zhangSanFeng}, "由张三丰转交张三"},
		{"由张**转交张*", []*Person{zhangSanFeng, zhangSan}, "由张三丰转交张三"},
		{"居民李*反映", []*Person{resident}, "居民李*反映"},
		{"人工派遣", []*Person{nil, zhangSan}, "人工派遣"},
	} {
		if got := unmask(c.note, c.who...); got != c.want {
			t.Errorf("unmask(%q) = %q, want %q", c.note, got, c.want)
		}
	}
}
