package catalogue

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
)

// AddressStore keeps the address book (store.Addresses).
type AddressStore interface {
	Upsert(ctx context.Context, as []model.Address, at time.Time) (int, error)
	Search(ctx context.Context, words []string, limit int) ([]model.Address, error)
	Count(ctx context.Context) (int, error)
}

// Addresses is the address book (地址库, GB/T 30428.3 地理编码): staff upload
// standard addresses with their coordinates (a CSV, as a bureau keeps them,
// or GeoJSON points), and whoever takes a hotline call finds one by any part
// of its name, with the grid it lies in — no coordinates typed by hand.
type Addresses struct {
	store AddressStore
	grids *Grids
	now   func() time.Time
}

// NewAddresses returns the address book; grids name each address's grid.
func NewAddresses(store AddressStore, grids *Grids, now func() time.Time) *Addresses {
	return &Addresses{store: store, grids: grids, now: now}
}

// Rejected is a row of an upload that was not stored: its line (a CSV's
// line number; a GeoJSON feature's position, from 1) and why, in Chinese.
type Rejected struct {
	Line    int
	Message string
}

// Imported is what an upload did: how many rows were stored (new or
// replacing an address of the same name), and the rows refused.
type Imported struct {
	Imported int
	Added    int
	Rejected []Rejected
}

// MaxAddressUpload bounds an upload's body.
const MaxAddressUpload = 16 << 20

// Import reads an upload — a CSV (name,kind,lat,lng[,coord_type], in UTF-8
// or the GB18030/GBK that spreadsheet software in China saves) or a GeoJSON
// FeatureCollection of points with properties {name, kind} — and stores its
// good rows by name. A bad row is refused with its line and the reason; the
// others are stored. Errors: invalid_argument (field file: not CSV nor
// GeoJSON, too many rows, the book would be too large), unavailable.
func (s *Addresses) Import(ctx context.Context, data []byte) (Imported, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var (
		rows     []model.Address
		rejected []Rejected
		err      error
	)
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		rows, rejected, err = parseAddressGeoJSON(trimmed)
	} else {
		if !utf8.Valid(data) {
			if data, err = simplifiedchinese.GB18030.NewDecoder().Bytes(data); err != nil {
				return Imported{}, model.InvalidNamed("file", "文件既不是 UTF-8 也不是 GBK 编码的文本；请另存为 CSV（UTF-8）后上传")
			}
		}
		rows, rejected, err = parseAddressCSV(data)
	}
	if err != nil {
		return Imported{}, err
	}
	if len(rows)+len(rejected) == 0 {
		return Imported{}, model.InvalidNamed("file", "文件中没有地址；CSV 每行为 名称,类型,纬度,经度[,坐标系]")
	}
	if len(rows) > 0 {
		n, err := s.store.Count(ctx)
		if err != nil {
			return Imported{}, err
		}
		if n+len(rows) > model.MaxAddresses {
			return Imported{}, model.InvalidNamed("file", "地址库已有 %d 条，再导入 %d 条会超过上限 %d 条", n, len(rows), model.MaxAddresses)
		}
	}
	out := Imported{Imported: len(rows), Rejected: rejected}
	if len(rows) > 0 {
		if out.Added, err = s.store.Upsert(ctx, rows, s.now()); err != nil {
			return Imported{}, fmt.Errorf("import addresses: %w", err)
		}
	}
	return out, nil
}

// addressRow checks one row's values and returns the address, or why not.
func addressRow(name, kind, lat, lng, coordType string) (model.Address, string) {
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return model.Address{}, "名称不能为空"
	case n > model.MaxAddressName:
		return model.Address{}, fmt.Sprintf("名称最多 %d 个字，这一行有 %d 个字", model.MaxAddressName, n)
	}
	if model.CheckText("name", name) != nil {
		return model.Address{}, "名称含有不可见的控制字符"
	}
	k := model.AddressKind(strings.TrimSpace(kind))
	if !k.Valid() {
		return model.Address{}, fmt.Sprintf("类型必须是 门牌、道路、小区、地标 之一，不能是“%s”", strings.TrimSpace(kind))
	}
	la, ok := ParseDegrees(lat)
	if ln, lok := ParseDegrees(lng); ok && lok && (la < -90 || la > 90) && geo.InChina(geo.Point{Lat: ln, Lng: la}) {
		return model.Address{}, fmt.Sprintf("纬度“%s”、经度“%s”写反了：纬度在前，经度在后", strings.TrimSpace(lat), strings.TrimSpace(lng))
	}
	if !ok || la < -90 || la > 90 {
		return model.Address{}, fmt.Sprintf("纬度“%s”不是 -90 到 90 之间的度数（写作 32.0415 或 32°2′29″）", strings.TrimSpace(lat))
	}
	ln, ok := ParseDegrees(lng)
	if !ok || ln < -180 || ln > 180 {
		return model.Address{}, fmt.Sprintf("经度“%s”不是 -180 到 180 之间的度数（写作 118.7845 或 118°47′4″）", strings.TrimSpace(lng))
	}
	p := geo.Point{Lat: la, Lng: ln}
	switch ct := strings.ToLower(strings.TrimSpace(coordType)); ct {
	case "", geo.CoordTypeWGS84:
	case geo.CoordTypeGCJ02:
		p = geo.GCJ02ToWGS84(p)
	default:
		return model.Address{}, fmt.Sprintf("坐标系只能是 wgs84 或 gcj02，不能是“%s”", strings.TrimSpace(coordType))
	}
	if !geo.InChina(p) {
		if geo.InChina(geo.Point{Lat: ln, Lng: la}) {
			return model.Address{}, fmt.Sprintf("位置（纬度 %s，经度 %s）不在中国境内：纬度和经度是否写反了？", lat, lng)
		}
		return model.Address{}, fmt.Sprintf("位置（纬度 %s，经度 %s）不在中国境内", lat, lng)
	}
	return model.Address{Name: name, Kind: k, Point: model.Point{Lat: p.Lat, Lng: p.Lng}}, ""
}

// tooManyRows is the error of an upload over model.MaxAddressRows.
func tooManyRows() error {
	return model.InvalidNamed("file", "一次最多导入 %d 条地址；请分批上传", model.MaxAddressRows)
}

// addressRows collects an upload's rows: the good ones, and the refused
// with their lines.
type addressRows struct {
	rows     []model.Address
	rejected []Rejected
	first    map[string]int
}

// add keeps a checked row, unless it was refused (why) or its name came
// earlier in the upload.
func (r *addressRows) add(line int, a model.Address, why string) {
	if why == "" {
		if l, dup := r.first[a.Name]; dup {
			why = fmt.Sprintf("与第 %d 行的名称“%s”重复", l, a.Name)
		}
	}
	if why != "" {
		r.rejected = append(r.rejected, Rejected{Line: line, Message: why})
		return
	}
	r.first[a.Name] = line
	r.rows = append(r.rows, a)
}

// parseAddressCSV reads name,kind,lat,lng[,coord_type] rows; a first row
// that names the columns (name,… or 名称,…) is skipped.
func parseAddressCSV(data []byte) ([]model.Address, []Rejected, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord, r.LazyQuotes, r.TrimLeadingSpace = -1, true, true
	out := addressRows{first: map[string]int{}}
	for n := 0; ; n++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			out.rejected = append(out.rejected, Rejected{Line: line, Message: "这一行不是 CSV 格式"})
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if n == 0 && len(rec) >= 3 {
			if h := strings.ToLower(strings.TrimSpace(rec[0])); h == "name" || h == "名称" {
				continue
			}
		}
		if len(out.rows)+len(out.rejected) >= model.MaxAddressRows {
			return nil, nil, tooManyRows()
		}
		if len(rec) != 4 && len(rec) != 5 {
			out.rejected = append(out.rejected, Rejected{Line: line,
				Message: fmt.Sprintf("应有 4 或 5 列（名称,类型,纬度,经度[,坐标系]），这一行有 %d 列", len(rec))})
			continue
		}
		ct := ""
		if len(rec) == 5 {
			ct = rec[4]
		}
		a, why := addressRow(rec[0], rec[1], rec[2], rec[3], ct)
		out.add(line, a, why)
	}
	return out.rows, out.rejected, nil
}

// parseAddressGeoJSON reads a FeatureCollection of Point features with
// properties {name, kind}, in WGS-84 unless the collection says
// "coord_type": "gcj02".
func parseAddressGeoJSON(data []byte) ([]model.Address, []Rejected, error) {
	var fc struct {
		Type      string            `json:"type"`
		CoordType string            `json:"coord_type"`
		Features  []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil || fc.Type != "FeatureCollection" {
		return nil, nil, model.InvalidNamed("file", "文件不是 GeoJSON FeatureCollection，也不是 CSV")
	}
	if len(fc.Features) > model.MaxAddressRows {
		return nil, nil, tooManyRows()
	}
	out := addressRows{first: map[string]int{}}
	for i, raw := range fc.Features {
		var f struct {
			Geometry *struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
			Properties struct {
				Name string `json:"name"`
				Kind string `json:"kind"`
			} `json:"properties"`
		}
		line := i + 1
		if err := json.Unmarshal(raw, &f); err != nil {
			out.rejected = append(out.rejected, Rejected{Line: line, Message: "要素的 properties 须为 {\"name\": 名称, \"kind\": 类型}"})
			continue
		}
		if f.Geometry == nil || f.Geometry.Type != "Point" {
			t := "空"
			if f.Geometry != nil {
				t = f.Geometry.Type
			}
			out.rejected = append(out.rejected, Rejected{Line: line, Message: fmt.Sprintf("几何类型是 %s；地址只收点（Point）", t)})
			continue
		}
		var c []float64
		if err := json.Unmarshal(f.Geometry.Coordinates, &c); err != nil || len(c) < 2 {
			out.rejected = append(out.rejected, Rejected{Line: line, Message: "点的坐标须为 [经度, 纬度]"})
			continue
		}
		a, why := addressRow(f.Properties.Name, f.Properties.Kind, strconv.FormatFloat(c[1], 'f', -1, 64),
			strconv.FormatFloat(c[0], 'f', -1, 64), fc.CoordType)
		out.add(line, a, why)
	}
	return out.rows, out.rejected, nil
}

// dms reads degrees, minutes and seconds: 32°2′29.5″, 32°2'29", 32度2分29秒,
// with an optional hemisphere letter (N, E; S and W negate).
var dms = regexp.MustCompile(`^([NSEWnsew])?\s*(\d+(?:\.\d+)?)\s*(?:°|度)\s*(?:(\d+(?:\.\d+)?)\s*(?:′|'|分))?\s*(?:(\d+(?:\.\d+)?)\s*(?:″|"|''|秒))?\s*([NSEWnsew])?$`)

// ParseDegrees reads a latitude or longitude as decimal degrees (32.0415,
// -118.5) or as degrees, minutes and seconds (32°2′29″, 32度2分29秒,
// N32°2'29"). ok is false for anything else.
func ParseDegrees(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		return v, !math.IsNaN(v) && !math.IsInf(v, 0)
	}
	m := dms.FindStringSubmatch(s)
	if m == nil || (m[1] != "" && m[5] != "") {
		return 0, false
	}
	deg, _ := strconv.ParseFloat(m[2], 64)
	var mins, secs float64
	if m[3] != "" {
		mins, _ = strconv.ParseFloat(m[3], 64)
	}
	if m[4] != "" {
		secs, _ = strconv.ParseFloat(m[4], 64)
	}
	if mins >= 60 || secs >= 60 {
		return 0, false
	}
	v := deg + mins/60 + secs/3600
	if h := strings.ToUpper(m[1] + m[5]); h == "S" || h == "W" {
		v = -v
	}
	return v, true
}

// AddressHit is an address a search found, with the grid it lies in (none:
// outside every grid, and a case there waits for a manual dispatch).
type AddressHit struct {
	model.Address
	Grid   model.Grid
	InGrid bool
}

// MaxAddressResults bounds a search's answer.
const MaxAddressResults = 50

// Search finds addresses by any part of their name (words separated by
// spaces must each appear), best first. Errors: invalid_argument (q empty,
// over 50 characters or 5 words; limit), unavailable.
func (s *Addresses) Search(ctx context.Context, q string, limit int) ([]AddressHit, error) {
	q = strings.TrimSpace(q)
	switch n := utf8.RuneCountInString(q); {
	case n == 0:
		return nil, model.InvalidNamed("q", "请输入要查找的地址：名称的任一部分，如“幸福路”")
	case n > 50:
		return nil, model.InvalidNamed("q", "查找的地址最多 50 个字")
	}
	if err := model.CheckText("q", q); err != nil {
		return nil, err
	}
	words := strings.Fields(q)
	if len(words) > 5 {
		return nil, model.InvalidNamed("q", "查找的地址最多 5 个词（以空格分隔）")
	}
	if limit < 1 || limit > MaxAddressResults {
		return nil, model.InvalidNamed("limit", "条数必须是 1 到 %d 之间的整数", MaxAddressResults)
	}
	found, err := s.store.Search(ctx, words, limit)
	if err != nil {
		return nil, err
	}
	out := make([]AddressHit, len(found))
	for i, a := range found {
		out[i] = AddressHit{Address: a}
		if s.grids != nil {
			out[i].Grid, out[i].InGrid = s.grids.Locate(a.Point)
		}
	}
	return out, nil
}
