package open311

import (
	"errors"
	"strings"
	"testing"

	"github.com/citizen-city/chengguantong/model"
)

func TestRedactContacts(t *testing.T) {
	for in, want := range map[string]string{
		"有事打13812345678找我":            "有事打138****5678找我",
		"邮件 li.si+cgt@example.com.cn": "邮件 ***@***",
		"幸福路12号门口":                    "幸福路12号门口",
		"工单号 2026120112345 不是手机号":     "工单号 2026120112345 不是手机号",
	} {
		if got := RedactContacts(in); got != want {
			t.Errorf("RedactContacts(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidateText(t *testing.T) {
	ok := map[string]string{"  井盖缺了\n一块  ": "井盖缺了\n一块", "a < b 且 c > d": "a < b 且 c > d"}
	for in, want := range ok {
		if got, err := ValidateText("description", in, 20, true); err != nil || got != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	for _, in := range []string{"", "   ", strings.Repeat("井", 21), "<b>粗体</b>", "<script>x</script>", "响铃\a", "\xff\xfe", "\u200b\u3000"} {
		_, err := ValidateText("description", in, 20, true)
		var me *model.Error
		if !errors.As(err, &me) || me.Code != model.CodeInvalidArgument || me.Field != "description" {
			t.Errorf("%q: %v", in, err)
		}
	}
	if got, err := ValidateText("address_string", "", 20, false); got != "" || err != nil {
		t.Errorf("optional empty: %q %v", got, err)
	}
}

func TestOpen311StatusNotes(t *testing.T) {
	for _, c := range []struct {
		t    model.Ticket
		want string
	}{
		{model.Ticket{Status: model.StatusPending, Queue: model.QueueStaff}, "已立案，等待人工派遣"},
		{model.Ticket{Status: model.StatusPending, Pool: true}, "已立案，等待社区在职党员认领"},
		{model.Ticket{Status: model.StatusDispatched}, "已派遣，等待处置人员接单"},
		{model.Ticket{Status: model.StatusInProgress, Escalated: true}, "处置中；已超过处置时限，督办中"},
		{model.Ticket{Status: model.StatusDeferred}, "已挂账，暂缓处置"},
		{model.Ticket{Status: model.StatusResolved}, "已处置，等待反映人确认"},
		{model.Ticket{Status: model.StatusMerged, DuplicateOf: "abc"}, "重复反映，已并入工单 abc 跟进"},
	} {
		if got := statusNotes(&c.t); got != c.want {
			t.Errorf("%s: %q, want %q", c.t.Status, got, c.want)
		}
	}
}

func TestPersonName(t *testing.T) {
	for _, c := range [][3]string{{"小明", "王", "王小明"}, {"John", "Smith", "John Smith"}, {"", "王", "王"}, {"小明", "", "小明"}, {"", "", ""}} {
		if got := personName(c[0], c[1]); got != c[2] {
			t.Errorf("personName(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}
