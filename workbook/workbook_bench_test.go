package workbook

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// BenchmarkTicketSheet writes a sheet shaped as the ticket export (24
// columns: texts, counts, times) of 15,000 rows and the workbook's bytes —
// issue 16's export bound is 2 s for a month of 15,000 rows, end to end.
//
//	go test -run '^$' -bench BenchmarkTicketSheet -benchtime 3x ./workbook/
func BenchmarkTicketSheet(b *testing.B) {
	const n = 15000
	at := time.Date(2026, 11, 3, 1, 30, 0, 0, time.UTC)
	headers := make([]string, 24)
	for i := range headers {
		headers[i] = fmt.Sprintf("列%d", i)
	}
	rows := make([][]any, n)
	for i := range rows {
		t := at.Add(time.Duration(i) * time.Minute)
		rows[i] = []any{fmt.Sprintf("20261103-%04d", i%10000), fmt.Sprintf("t%020d", i), "已结案", "微信", "0101", "井盖破损",
			fmt.Sprintf("第%d件：路口井盖松动，车辆经过时响声很大，请尽快处理", i), fmt.Sprintf("南京市鼓楼区幸福路%d号", i%200+1),
			"320106007", "幸福路网格", "幸福社区", "王建国", "网格员", Time(t), Time(t.Add(time.Hour)), Time(t.Add(48 * time.Hour)),
			Time(t.Add(24 * time.Hour)), Time(t.Add(30 * time.Hour)), "否", int64(0), int64(i % 3), int64(0), "满意（5 分）", int64(1)}
	}
	b.ResetTimer()
	for range b.N {
		f := excelize.NewFile()
		bk, err := New(f, "标题")
		if err != nil {
			b.Fatal(err)
		}
		if err := bk.Sheet("工单", Table{Headers: headers, Rows: rows, FrozenCols: 1}); err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if err := f.Write(&buf); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(buf.Len()), "bytes")
		_, _ = io.Discard.Write(buf.Bytes())
		_ = f.Close()
	}
}
