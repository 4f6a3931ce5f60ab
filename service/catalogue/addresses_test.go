package catalogue

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/citizen-city/chengguantong/model"
)

func TestParseDegrees(t *testing.T) {
	for s, want := range map[string]float64{
		"32.0415": 32.0415, "-118.5": -118.5, "32°2′29″": 32 + 2.0/60 + 29.0/3600, `32°2'29"`: 32 + 2.0/60 + 29.0/3600,
		"32度2分29秒": 32 + 2.0/60 + 29.0/3600, "32度2分": 32 + 2.0/60, "32°": 32, "N32°2'": 32 + 2.0/60, "118°47′4″E": 118 + 47.0/60 + 4.0/3600,
		"S10°30'": -10.5,
	} {
		got, ok := ParseDegrees(s)
		if !ok || math.Abs(got-want) > 1e-9 {
			t.Errorf("ParseDegrees(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "abc", "32度61分", "N32°E", "NaN", "32,5", "32度2分29秒多"} {
		if v, ok := ParseDegrees(s); ok {
			t.Errorf("ParseDegrees(%q) = %v, want refused", s, v)
		}
	}
}

// TestParseAddressCSV: a header is skipped, good rows kept, each bad one
// refused with its line and a reason in Chinese naming the value.
func TestParseAddressCSV(t *testing.T) {
	csv := strings.Join([]string{
		"名称,类型,纬度,经度,坐标系",
		"幸福路12号,门牌,32.0415,118.7845",
		"幸福里小区,小区,32°2′29″,118°47′4″,gcj02",
		"",
		"鼓楼公园,公园,32.05,118.78",
		"中山路,道路,118.78,32.05",
		"北京东路,道路,abc,118.78",
		"幸福路12号,门牌,32.04,118.78",
		"只有三列,门牌,32.04",
		",道路,32.04,118.78",
		"新街口,地标,32.04,118.78,bd09",
	}, "\n")
	rows, rejected, err := parseAddressCSV([]byte(csv))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Name != "幸福路12号" || rows[1].Name != "幸福里小区" || rows[1].Kind != model.AddressEstate {
		t.Fatalf("rows %+v", rows)
	}
	if rows[1].Point.Lat == 32+2.0/60+29.0/3600 {
		t.Error("a GCJ-02 row was not converted to WGS-84")
	}
	want := map[int]string{5: "公园", 6: "写反", 7: "abc", 8: "与第 2 行", 9: "4 或 5 列", 10: "名称不能为空", 11: "bd09"}
	if len(rejected) != len(want) {
		t.Fatalf("rejected %+v", rejected)
	}
	for _, r := range rejected {
		if !strings.Contains(r.Message, want[r.Line]) {
			t.Errorf("line %d: %q, want it to mention %q", r.Line, r.Message, want[r.Line])
		}
	}
}

// TestImportDecodesGBK: a CSV saved by a spreadsheet in China (GBK) reads
// as the same text.
func TestImportDecodesGBK(t *testing.T) {
	gbk, err := simplifiedchinese.GBK.NewEncoder().String("幸福路12号,门牌,32.0415,118.7845\n")
	if err != nil {
		t.Fatal(err)
	}
	store := &memAddresses{}
	res, err := NewAddresses(store, nil, time.Now).Import(t.Context(), []byte(gbk))
	if err != nil || res.Imported != 1 || len(store.got) != 1 || store.got[0].Name != "幸福路12号" {
		t.Fatalf("Import(GBK) = %+v, %v; stored %+v", res, err, store.got)
	}
}

// TestParseAddressGeoJSON: points only, with name and kind.
func TestParseAddressGeoJSON(t *testing.T) {
	fc := `{"type":"FeatureCollection","features":[
	 {"type":"Feature","properties":{"name":"鼓楼公园","kind":"地标"},"geometry":{"type":"Point","coordinates":[118.78,32.05]}},
	 {"type":"Feature","properties":{"name":"中山路","kind":"道路"},"geometry":{"type":"LineString","coordinates":[[118.78,32.05],[118.79,32.06]]}},
	 {"type":"Feature","properties":{"name":"无类型"},"geometry":{"type":"Point","coordinates":[118.78,32.05]}}]}`
	rows, rejected, err := parseAddressGeoJSON([]byte(fc))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Point.Lat != 32.05 || rows[0].Point.Lng != 118.78 {
		t.Fatalf("rows %+v", rows)
	}
	if len(rejected) != 2 || rejected[0].Line != 2 || !strings.Contains(rejected[0].Message, "LineString") || rejected[1].Line != 3 {
		t.Fatalf("rejected %+v", rejected)
	}
}

// memAddresses is an address store that keeps what it is given.
type memAddresses struct{ got []model.Address }

func (m *memAddresses) Upsert(_ context.Context, as []model.Address, _ time.Time) (int, error) {
	m.got = append(m.got, as...)
	return len(as), nil
}
func (m *memAddresses) Search(context.Context, []string, int) ([]model.Address, error) {
	return nil, nil
}
func (m *memAddresses) Count(context.Context) (int, error) { return len(m.got), nil }
