package catalogue

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
)

// LayerStore keeps the map's base layers (store.Layers).
type LayerStore interface {
	Create(ctx context.Context, l model.Layer) (*model.Layer, error)
	List(ctx context.Context) ([]model.Layer, error)
	Delete(ctx context.Context, id string) error
}

// Layers are the map's base layers: roads and boundaries the staff upload
// as GeoJSON, drawn under the grids — the map fetches nothing from outside.
type Layers struct {
	store LayerStore
}

// NewLayers returns the base layers.
func NewLayers(store LayerStore) *Layers { return &Layers{store: store} }

// LayerInput is an upload: a name, a kind and a GeoJSON FeatureCollection
// of lines and polygons (WGS-84, or GCJ-02 with a top-level "coord_type").
type LayerInput struct {
	Name    string
	Kind    string
	GeoJSON []byte
}

// MaxLayerVertices bounds the positions of one layer.
const MaxLayerVertices = 200_000

// Create checks and stores a base layer: its features' lines and polygons
// in WGS-84, each with its "name" property if it has one (nothing else is
// kept). Errors: invalid_argument naming the field (name, kind, the
// feature at fault), payload_too_large, conflict (MaxLayers layers exist).
func (l *Layers) Create(ctx context.Context, staff *model.User, in LayerInput) (*model.Layer, error) {
	name := strings.TrimSpace(in.Name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return nil, model.InvalidNamed("name", "请填写图层名称，如“主干道”")
	case n > 50:
		return nil, model.InvalidNamed("name", "图层名称最多 50 个字")
	}
	if err := model.CheckText("name", name); err != nil {
		return nil, err
	}
	kind := model.LayerKind(strings.TrimSpace(in.Kind))
	if !kind.Valid() {
		return nil, model.InvalidNamed("kind", "图层类型只能是 road（道路）、boundary（边界）或 other（其他），不能是“%s”", in.Kind)
	}
	if len(in.GeoJSON) > model.MaxLayerBytes {
		return nil, model.Errorf(model.CodePayloadTooLarge, "图层文件有 %d KB，最多 %d KB；请简化线条后再上传", len(in.GeoJSON)>>10, model.MaxLayerBytes>>10)
	}
	fc, err := parseLayer(in.GeoJSON)
	if err != nil {
		return nil, err
	}
	existing, err := l.store.List(ctx)
	if err != nil {
		return nil, err
	}
	if len(existing) >= model.MaxLayers {
		return nil, model.Errorf(model.CodeConflict, "底图已有 %d 个图层，达到上限；请先删除不用的图层", len(existing))
	}
	data, err := json.Marshal(fc)
	if err != nil {
		return nil, fmt.Errorf("encode layer: %w", err)
	}
	out, err := l.store.Create(ctx, model.Layer{Name: name, Kind: kind, GeoJSON: data, Features: len(fc.Features), CreatedBy: staff.ID})
	if err != nil {
		return nil, fmt.Errorf("create layer: %w", err)
	}
	return out, nil
}

// parseLayer reads a FeatureCollection of lines and polygons and returns it
// normalised: WGS-84, each feature with its name only. Errors:
// invalid_argument naming the feature at fault.
func parseLayer(data []byte) (*geojson.FeatureCollection, error) {
	var top struct {
		Type      string `json:"type"`
		CoordType string `json:"coord_type"`
	}
	if err := json.Unmarshal(data, &top); err != nil || top.Type != "FeatureCollection" {
		return nil, model.InvalidNamed("file", "图层文件须为 GeoJSON FeatureCollection")
	}
	gcj02 := false
	switch top.CoordType {
	case "", geo.CoordTypeWGS84:
	case geo.CoordTypeGCJ02:
		gcj02 = true
	default:
		return nil, model.InvalidNamed("coord_type", "坐标系只能是 wgs84 或 gcj02，不能是“%s”", top.CoordType)
	}
	fc, err := geojson.UnmarshalFeatureCollection(data)
	if err != nil {
		return nil, model.InvalidNamed("file", "图层文件不是有效的 GeoJSON：%s", truncateText(err.Error(), 80))
	}
	if len(fc.Features) == 0 {
		return nil, model.InvalidNamed("features", "图层文件中没有任何要素")
	}
	out := geojson.NewFeatureCollection()
	vertices := 0
	for i, f := range fc.Features {
		field := fmt.Sprintf("features[%d]", i)
		switch f.Geometry.(type) {
		case orb.LineString, orb.MultiLineString, orb.Polygon, orb.MultiPolygon:
		default:
			t := "空"
			if f.Geometry != nil {
				t = f.Geometry.GeoJSONType()
			}
			return nil, model.InvalidNamed(field+".geometry", "第 %d 个要素的几何类型是 %s；底图只收线和面（LineString、MultiLineString、Polygon、MultiPolygon）", i+1, t)
		}
		var bad *orb.Point
		convert := func(p orb.Point) orb.Point {
			vertices++
			if bad == nil && (math.IsNaN(p[0]) || math.IsNaN(p[1]) || p[1] < -90 || p[1] > 90 || p[0] < -180 || p[0] > 180) {
				bad = &p
			}
			if gcj02 {
				w := geo.GCJ02ToWGS84(geo.Point{Lat: p[1], Lng: p[0]})
				return orb.Point{w.Lng, w.Lat}
			}
			return p
		}
		g := mapPoints(f.Geometry, convert)
		if bad != nil {
			return nil, model.InvalidNamed(field+".geometry", "第 %d 个要素有一个坐标 [%g, %g] 不是 [经度, 纬度]", i+1, bad[0], bad[1])
		}
		if vertices > MaxLayerVertices {
			return nil, model.InvalidNamed("features", "图层的坐标点超过 %d 个；请简化线条后再上传", MaxLayerVertices)
		}
		nf := geojson.NewFeature(g)
		if name, ok := f.Properties["name"].(string); ok && name != "" {
			nf.Properties["name"] = truncateText(name, 50)
		}
		out.Append(nf)
	}
	return out, nil
}

// mapPoints returns g with every position passed through fn.
func mapPoints(g orb.Geometry, fn func(orb.Point) orb.Point) orb.Geometry {
	line := func(ls []orb.Point) []orb.Point {
		out := make([]orb.Point, len(ls))
		for i, p := range ls {
			out[i] = fn(p)
		}
		return out
	}
	switch g := g.(type) {
	case orb.LineString:
		return orb.LineString(line(g))
	case orb.MultiLineString:
		out := make(orb.MultiLineString, len(g))
		for i, ls := range g {
			out[i] = line(ls)
		}
		return out
	case orb.Polygon:
		out := make(orb.Polygon, len(g))
		for i, r := range g {
			out[i] = line(r)
		}
		return out
	case orb.MultiPolygon:
		out := make(orb.MultiPolygon, len(g))
		for i, p := range g {
			out[i] = make(orb.Polygon, len(p))
			for j, r := range p {
				out[i][j] = line(r)
			}
		}
		return out
	}
	return g
}

func truncateText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// List returns every layer with its GeoJSON, oldest first. Errors:
// unavailable.
func (l *Layers) List(ctx context.Context) ([]model.Layer, error) { return l.store.List(ctx) }

// Delete removes a layer. Errors: not_found.
func (l *Layers) Delete(ctx context.Context, id string) error {
	if err := l.store.Delete(ctx, id); err != nil {
		if model.ErrorCode(err) == model.CodeNotFound {
			return model.Errorf(model.CodeNotFound, "没有底图图层 %s", id)
		}
		return err
	}
	return nil
}
