package geo

import (
	"math"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"
	"github.com/tidwall/rtree"
)

// Index answers "which grid is this point in" for a fixed set of grids.
//
// An Index is immutable once NewIndex returns, so any number of goroutines
// may use it at once. To reload grids, build a new Index and swap it in,
// for example with an atomic.Pointer[geo.Index].
//
// Geometry is treated as planar in longitude/latitude, which is accurate for
// city-sized grids. Longitudes do not wrap around the antimeridian.
type Index struct {
	grids []indexedGrid
	tree  rtree.RTreeG[int] // grid bounding boxes -> position in grids
}

type indexedGrid struct {
	code  string
	shape orb.MultiPolygon
	// area in whole square metres; the first tie-breaker between grids.
	area float64
}

// NewIndex builds an Index over grids. It keeps its own copy of every
// shape, so the caller may reuse grids afterwards. Grids with an empty Shape
// are left out. Grids are expected to come from ParseGrids (valid, unique
// codes); if codes repeat, lookups stay deterministic.
func NewIndex(grids []Grid) *Index {
	idx := &Index{grids: make([]indexedGrid, 0, len(grids))}
	for _, g := range grids {
		if len(g.Shape) == 0 {
			continue
		}
		shape := g.Shape.Clone()
		b := shape.Bound()
		idx.tree.Insert(b.Min, b.Max, len(idx.grids))
		idx.grids = append(idx.grids, indexedGrid{
			code:  g.Code,
			shape: shape,
			area:  math.Round(orbgeo.Area(shape)),
		})
	}
	return idx
}

// Len returns the number of grids in the index.
func (idx *Index) Len() int {
	return len(idx.grids)
}

// Locate returns the code of the grid containing p (WGS-84). Points on a
// grid's border count as inside it; points in a hole do not.
//
// Where grids overlap, or p lies on a border shared by several grids, the
// grid with the smallest area (in whole square metres) wins, and among equal
// areas the lowest code (byte-wise string order). The result therefore does
// not depend on the order of the grids.
func (idx *Index) Locate(p Point) (code string, ok bool) {
	pt := orb.Point{p.Lng, p.Lat}
	best := -1
	idx.tree.Search(pt, pt, func(_, _ [2]float64, i int) bool {
		if (best < 0 || idx.before(i, best)) && planar.MultiPolygonContains(idx.grids[i].shape, pt) {
			best = i
		}
		return true
	})
	if best < 0 {
		return "", false
	}
	return idx.grids[best].code, true
}

// Nearest returns the grid closest to p (WGS-84) within maxMeters, and the
// distance in metres from p to that grid's boundary.
//
// A grid containing p is at distance 0, so if Locate would find a grid,
// Nearest returns that same grid. Otherwise the grid with the nearest
// boundary (outer rings and holes) wins; ties are broken as in Locate.
// Distances use a local equirectangular projection centred on p, which for
// the short distances involved differs from DistanceMeters by far less than
// a metre.
//
// ok is false if no grid lies within maxMeters, or if p is invalid or
// maxMeters is negative or NaN.
func (idx *Index) Nearest(p Point, maxMeters float64) (code string, distM float64, ok bool) {
	if !p.Valid() || !(maxMeters >= 0) {
		return "", 0, false
	}

	// Expand the search box by maxMeters in each direction, in degrees at
	// p's latitude. The projection below uses the same scale factors, so a
	// grid outside the box cannot be within maxMeters.
	proj := newLocalProjection(p)
	dLat := maxMeters / proj.metersPerDegLat
	dLng := math.Min(maxMeters/proj.metersPerDegLng, 360)
	lo := [2]float64{p.Lng - dLng, p.Lat - dLat}
	hi := [2]float64{p.Lng + dLng, p.Lat + dLat}

	pt := orb.Point{p.Lng, p.Lat}
	best, bestDist := -1, math.Inf(1)
	idx.tree.Search(lo, hi, func(_, _ [2]float64, i int) bool {
		g := &idx.grids[i]
		var d float64
		if !planar.MultiPolygonContains(g.shape, pt) {
			d = proj.distanceToBoundary(g.shape)
		}
		if d > maxMeters {
			return true
		}
		if best < 0 || d < bestDist || (d == bestDist && idx.before(i, best)) {
			best, bestDist = i, d
		}
		return true
	})
	if best < 0 {
		return "", 0, false
	}
	return idx.grids[best].code, bestDist, true
}

// before reports whether grid i takes precedence over grid j: smaller area
// first, then lower code, then earlier position.
func (idx *Index) before(i, j int) bool {
	a, b := &idx.grids[i], &idx.grids[j]
	if a.area != b.area {
		return a.area < b.area
	}
	if a.code != b.code {
		return a.code < b.code
	}
	return i < j
}

// localProjection maps lng/lat to metres east and north of an origin using
// an equirectangular projection with the origin's scale factors.
type localProjection struct {
	origin          Point
	metersPerDegLat float64
	metersPerDegLng float64
}

func newLocalProjection(origin Point) localProjection {
	// Keep the longitude scale away from zero at the poles.
	cosLat := math.Max(math.Cos(radians(origin.Lat)), 1e-9)
	return localProjection{
		origin:          origin,
		metersPerDegLat: metersPerDegree,
		metersPerDegLng: metersPerDegree * cosLat,
	}
}

func (lp localProjection) project(pt orb.Point) orb.Point {
	return orb.Point{
		(pt[0] - lp.origin.Lng) * lp.metersPerDegLng,
		(pt[1] - lp.origin.Lat) * lp.metersPerDegLat,
	}
}

// distanceToBoundary returns the distance in metres from the origin to the
// nearest edge of any ring of mp.
func (lp localProjection) distanceToBoundary(mp orb.MultiPolygon) float64 {
	var origin orb.Point
	best := math.Inf(1)
	for _, poly := range mp {
		for _, ring := range poly {
			for i := 0; i+1 < len(ring); i++ {
				a, b := lp.project(ring[i]), lp.project(ring[i+1])
				best = math.Min(best, planar.DistanceFromSegmentSquared(a, b, origin))
			}
		}
	}
	return math.Sqrt(best)
}
