package catalogue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/citizen-city/chengguantong/geo"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/queue"
)

// GridStore keeps grid polygons.
type GridStore interface {
	Upsert(ctx context.Context, grids []geo.Grid) ([]model.Grid, error)
	Revision(ctx context.Context) (string, error)
	All(ctx context.Context) ([]geo.Grid, error)
	List(ctx context.Context) ([]model.Grid, error)
}

// Grids answers "which grid is this point in" from an in-process index (an
// R-tree over bounding boxes, then exact point-in-polygon) that every
// instance reloads when the stored grids change.
type Grids struct {
	store  GridStore
	snapM  float64
	logger *slog.Logger
	index  atomic.Pointer[gridIndex]
}

type gridIndex struct {
	revision string
	index    *geo.Index
	byCode   map[string]model.Grid
}

// NewGrids returns the grid service; a point in no grid goes to the nearest
// grid within snapMeters.
func NewGrids(store GridStore, snapMeters float64, logger *slog.Logger) *Grids {
	g := &Grids{store: store, snapM: snapMeters, logger: logger}
	g.index.Store(&gridIndex{index: geo.NewIndex(nil), byCode: map[string]model.Grid{}})
	return g
}

// Upload validates a GeoJSON FeatureCollection and stores its grids by code.
// Errors: invalid_argument naming the feature.
func (g *Grids) Upload(ctx context.Context, data []byte) ([]model.Grid, error) {
	parsed, err := geo.ParseGrids(data)
	if err != nil {
		var ge *geo.GridError
		if errors.As(err, &ge) {
			return nil, &model.Error{Code: model.CodeInvalidArgument, Message: ge.Error(), Field: ge.Field()}
		}
		return nil, model.Errorf(model.CodeInvalidArgument, "请求体不是 GeoJSON FeatureCollection")
	}
	for i, pg := range parsed {
		for _, p := range [][2]string{{"code", pg.Code}, {"name", pg.Name}, {"community", pg.Community}} {
			if err := model.CheckText(fmt.Sprintf("features[%d].properties.%s", i, p[0]), p[1]); err != nil {
				return nil, err
			}
		}
	}
	out, err := g.store.Upsert(ctx, parsed)
	if err != nil {
		return nil, fmt.Errorf("upload grids: %w", err)
	}
	if _, err := g.Refresh(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// List returns the grids with their outlines (Area), by code.
func (g *Grids) List(ctx context.Context) ([]model.Grid, error) {
	all, err := g.store.All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list grids: %w", err)
	}
	out := make([]model.Grid, len(all))
	for i, x := range all {
		area := make([][][]model.Point, len(x.Shape))
		for j, poly := range x.Shape {
			area[j] = make([][]model.Point, len(poly))
			for k, ring := range poly {
				pts := make([]model.Point, len(ring))
				for n, p := range ring {
					pts[n] = model.Point{Lat: p[1], Lng: p[0]}
				}
				area[j][k] = pts
			}
		}
		out[i] = model.Grid{Code: x.Code, Name: x.Name, Community: x.Community, Area: area}
	}
	return out, nil
}

// Refresh reloads the index if the stored grids changed; it reports
// whether it did.
func (g *Grids) Refresh(ctx context.Context) (bool, error) {
	rev, err := g.store.Revision(ctx)
	if err != nil {
		return false, err
	}
	if cur := g.index.Load(); cur.revision == rev && cur.index.Len() > 0 {
		return false, nil
	}
	all, err := g.store.All(ctx)
	if err != nil {
		return false, err
	}
	byCode := make(map[string]model.Grid, len(all))
	for _, x := range all {
		byCode[x.Code] = model.Grid{Code: x.Code, Name: x.Name, Community: x.Community}
	}
	g.index.Store(&gridIndex{revision: rev, index: geo.NewIndex(all), byCode: byCode})
	return true, nil
}

// Locate returns the grid of a WGS-84 point: the grid containing it, else
// the nearest within the snap distance. ok is false when there is none.
func (g *Grids) Locate(p model.Point) (model.Grid, bool) {
	idx := g.index.Load()
	pt := geo.Point{Lat: p.Lat, Lng: p.Lng}
	code, ok := idx.index.Locate(pt)
	if !ok && g.snapM > 0 {
		code, _, ok = idx.index.Nearest(pt, g.snapM)
	}
	if !ok {
		return model.Grid{}, false
	}
	return idx.byCode[code], true
}

// Exists reports whether a grid code is known.
func (g *Grids) Exists(code string) bool {
	_, ok := g.index.Load().byCode[code]
	return ok
}

// Get returns a grid by code from the index.
func (g *Grids) Get(code string) (model.Grid, bool) {
	x, ok := g.index.Load().byCode[code]
	return x, ok
}

// Run reloads the grid index each time wake fires (grids stored on any
// instance) and at least every look, until ctx is done.
func (g *Grids) Run(ctx context.Context, wake <-chan struct{}, look time.Duration) {
	queue.Waiting(ctx, g.logger, "grid-refresh", wake, 0, look, func(ctx context.Context) (time.Duration, int, error) {
		changed, err := g.Refresh(ctx)
		if changed {
			return 0, 1, err
		}
		return 0, 0, err
	})
}
