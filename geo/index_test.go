package geo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/paulmach/orb"
)

// Test grids around Suqian. A has a hole; B is its eastern neighbour.
//
//	33.963 +-----------+-----------+
//	       |     A     |     B     |
//	       |   +---+   |           |
//	       |   | h |   |           |
//	       |   +---+   |           |
//	33.960 +-----------+-----------+
//	    118.270     118.273     118.276
func testGrids() []Grid {
	return []Grid{
		{Code: "A", Name: "网格A", Community: "c", Shape: orb.MultiPolygon{{
			square(118.270, 33.960, 118.273, 33.963),
			square(118.2712, 33.9612, 118.2718, 33.9618),
		}}},
		{Code: "B", Name: "网格B", Community: "c", Shape: orb.MultiPolygon{{
			square(118.273, 33.960, 118.276, 33.963),
		}}},
	}
}

func TestLocate(t *testing.T) {
	idx := NewIndex(testGrids())
	if idx.Len() != 2 {
		t.Fatalf("Len = %d, want 2", idx.Len())
	}

	tests := []struct {
		name   string
		p      Point
		want   string
		wantOK bool
	}{
		{"inside A", Point{Lat: 33.9605, Lng: 118.2705}, "A", true},
		{"inside B", Point{Lat: 33.9615, Lng: 118.2745}, "B", true},
		{"in the hole of A", Point{Lat: 33.9615, Lng: 118.2715}, "", false},
		{"on the edge of the hole", Point{Lat: 33.9612, Lng: 118.2715}, "", false},
		{"outside, north", Point{Lat: 33.9700, Lng: 118.2700}, "", false},
		{"outside, east", Point{Lat: 33.9615, Lng: 118.2800}, "", false},
		{"outer corner of A", Point{Lat: 33.960, Lng: 118.270}, "A", true},
		// A and B share the border at 118.273; A has the smaller area
		// because of its hole, so it wins.
		{"on the shared border", Point{Lat: 33.9615, Lng: 118.273}, "A", true},
		{"zero value", Point{}, "", false},
		{"NaN", Point{Lat: math.NaN(), Lng: 118.2705}, "", false},
	}
	for _, tt := range tests {
		code, ok := idx.Locate(tt.p)
		if code != tt.want || ok != tt.wantOK {
			t.Errorf("%s: Locate(%v) = %q, %v; want %q, %v", tt.name, tt.p, code, ok, tt.want, tt.wantOK)
		}
	}
}

func TestLocateTieBreaks(t *testing.T) {
	// Two equal squares side by side: on the shared border the lower code
	// wins, whatever the input order.
	west := Grid{Code: "G-002", Shape: orb.MultiPolygon{{square(118.270, 33.960, 118.273, 33.963)}}}
	east := Grid{Code: "G-001", Shape: orb.MultiPolygon{{square(118.273, 33.960, 118.276, 33.963)}}}
	// A small grid inside a large one: the small one wins even with a
	// higher code.
	big := Grid{Code: "AAA", Shape: orb.MultiPolygon{{square(118.300, 33.960, 118.310, 33.970)}}}
	small := Grid{Code: "ZZZ", Shape: orb.MultiPolygon{{square(118.302, 33.962, 118.304, 33.964)}}}

	tests := []struct {
		name string
		p    Point
		want string
	}{
		{"shared border", Point{Lat: 33.9615, Lng: 118.273}, "G-001"},
		{"shared corner", Point{Lat: 33.963, Lng: 118.273}, "G-001"},
		{"west only", Point{Lat: 33.9615, Lng: 118.2725}, "G-002"},
		{"overlap", Point{Lat: 33.963, Lng: 118.303}, "ZZZ"},
		{"border of the small grid", Point{Lat: 33.962, Lng: 118.303}, "ZZZ"},
		{"big only", Point{Lat: 33.968, Lng: 118.308}, "AAA"},
	}
	orders := [][]Grid{{west, east, big, small}, {small, big, east, west}, {east, small, west, big}}
	for _, grids := range orders {
		idx := NewIndex(grids)
		for _, tt := range tests {
			if code, _ := idx.Locate(tt.p); code != tt.want {
				t.Errorf("%s: Locate(%v) = %q, want %q (order %v)", tt.name, tt.p, code, tt.want, codes(grids))
			}
		}
	}
}

func codes(grids []Grid) []string {
	out := make([]string, len(grids))
	for i, g := range grids {
		out[i] = g.Code
	}
	return out
}

func TestLocateMultiPolygon(t *testing.T) {
	idx := NewIndex([]Grid{{Code: "M", Shape: orb.MultiPolygon{
		{square(118.270, 33.960, 118.271, 33.961)},
		{square(118.280, 33.960, 118.281, 33.961)},
	}}})
	for _, p := range []Point{{Lat: 33.9605, Lng: 118.2705}, {Lat: 33.9605, Lng: 118.2805}} {
		if code, ok := idx.Locate(p); !ok || code != "M" {
			t.Errorf("Locate(%v) = %q, %v; want M", p, code, ok)
		}
	}
	if code, ok := idx.Locate(Point{Lat: 33.9605, Lng: 118.2755}); ok {
		t.Errorf("point between the parts located in %q", code)
	}
}

func TestNewIndexCopiesShapes(t *testing.T) {
	grids := testGrids()
	idx := NewIndex(grids)
	grids[1].Shape[0][0][1] = orb.Point{0, 0} // caller reuses its slice
	if code, ok := idx.Locate(Point{Lat: 33.9615, Lng: 118.2745}); !ok || code != "B" {
		t.Errorf("after mutating the input, Locate = %q, %v; want B", code, ok)
	}
	if n := NewIndex([]Grid{{Code: "empty"}}).Len(); n != 0 {
		t.Errorf("grid with empty shape was indexed: Len = %d", n)
	}
	if _, ok := NewIndex(nil).Locate(Point{Lat: 33.96, Lng: 118.27}); ok {
		t.Error("empty index located a point")
	}
}

func TestNearest(t *testing.T) {
	idx := NewIndex(testGrids())
	const eastEdge = 118.276

	// 100 m east of B's eastern edge, measured along the parallel.
	east100 := destination(Point{Lat: 33.9615, Lng: eastEdge}, 90, 100)

	tests := []struct {
		name     string
		p        Point
		max      float64
		want     string
		wantDist float64
		wantOK   bool
	}{
		{"inside A", Point{Lat: 33.9605, Lng: 118.2705}, 50, "A", 0, true},
		{"inside A, zero limit", Point{Lat: 33.9605, Lng: 118.2705}, 0, "A", 0, true},
		{"on the shared border", Point{Lat: 33.9615, Lng: 118.273}, 50, "A", 0, true},
		{"100 m east, limit 150", east100, 150, "B", 100, true},
		{"100 m east, limit 100.5", east100, 100.5, "B", 100, true},
		{"100 m east, limit 99", east100, 99, "", 0, false},
		{"100 m east, limit 0", east100, 0, "", 0, false},
		// The hole is 0.0006° x 0.0006°; its centre is 0.0003° of
		// latitude (33.4 m) from its northern and southern edges and
		// 0.0003° of longitude (27.7 m at this latitude) from the others.
		{"centre of the hole", Point{Lat: 33.9615, Lng: 118.2715}, 50, "A", 27.7, true},
		{"centre of the hole, limit 20", Point{Lat: 33.9615, Lng: 118.2715}, 20, "", 0, false},
		{"south of A, nearer A than B", Point{Lat: 33.9595, Lng: 118.2720}, 100, "A", 55.6, true},
		{"south of B", Point{Lat: 33.9595, Lng: 118.2740}, 100, "B", 55.6, true},
		{"negative limit", Point{Lat: 33.9605, Lng: 118.2705}, -1, "", 0, false},
		{"NaN limit", Point{Lat: 33.9605, Lng: 118.2705}, math.NaN(), "", 0, false},
		{"invalid point", Point{Lat: 95, Lng: 118.2705}, 50, "", 0, false},
	}
	for _, tt := range tests {
		code, dist, ok := idx.Nearest(tt.p, tt.max)
		if code != tt.want || ok != tt.wantOK || math.Abs(dist-tt.wantDist) > 0.1 {
			t.Errorf("%s: Nearest(%v, %v) = %q, %.2f, %v; want %q, %.2f, %v",
				tt.name, tt.p, tt.max, code, dist, ok, tt.want, tt.wantDist, tt.wantOK)
		}
	}
}

// TestNearestMatchesHaversine compares Nearest's projected distance with
// DistanceMeters to the closest point of an edge.
func TestNearestMatchesHaversine(t *testing.T) {
	idx := NewIndex(testGrids())
	rng := rand.New(rand.NewPCG(9, 10))
	for range 1000 {
		// A point east of B, and the foot of its perpendicular on B's
		// eastern edge (same latitude).
		lat := 33.9601 + rng.Float64()*0.0028
		p := Point{Lat: lat, Lng: 118.276 + rng.Float64()*0.02}
		foot := Point{Lat: lat, Lng: 118.276}
		want := DistanceMeters(p, foot)

		code, got, ok := idx.Nearest(p, 3000)
		if !ok || code != "B" {
			t.Fatalf("Nearest(%v) = %q, %v", p, code, ok)
		}
		if math.Abs(got-want) > 0.001*want+0.01 {
			t.Fatalf("Nearest(%v) distance %.3f m, haversine %.3f m", p, got, want)
		}
	}
}

// TestLocateGCJ02 builds two grids in GCJ-02, as a city's map team would
// draw them on an AMap/Tencent base map, and routes a report whose position
// comes from WeChat's wx.getLocation({type: "gcj02"}).
//
// The grids share a 300 m border (WGS-84 longitude 118.2750). GCJ-02 shifts
// positions here about 510 m east and 150 m south, so ignoring the datum
// would put the report in the wrong grid.
func TestLocateGCJ02(t *testing.T) {
	const (
		border = 118.2750 // WGS-84 longitude of the shared border
		south  = 33.9620
		north  = 33.9647 // 0.0027° of latitude: the border is ~300 m long
		lat    = 33.9640 // where the resident stands
	)
	if d := DistanceMeters(Point{Lat: south, Lng: border}, Point{Lat: north, Lng: border}); d < 290 || d > 310 {
		t.Fatalf("border is %.0f m long, want ~300 m", d)
	}

	wgsGrids := []Grid{
		{Code: "WEST", Name: "西网格", Community: "c", Shape: orb.MultiPolygon{{densify(square(border-0.0030, south, border, north), 8)}}},
		{Code: "EAST", Name: "东网格", Community: "c", Shape: orb.MultiPolygon{{densify(square(border, south, border+0.0080, north), 8)}}},
	}
	// The file the map team uploads: the same grids in GCJ-02.
	gcjGrids := make([]Grid, len(wgsGrids))
	for i, g := range wgsGrids {
		gcjGrids[i] = Grid{Code: g.Code, Name: g.Name, Community: g.Community, Shape: mapShape(g.Shape, WGS84ToGCJ02)}
	}
	grids, err := ParseGrids(collection(t, CoordTypeGCJ02, gcjGrids...))
	if err != nil {
		t.Fatal(err)
	}
	for i := range grids {
		assertShapesClose(t, grids[i].Shape, wgsGrids[i].Shape, 0.001)
	}
	idx := NewIndex(grids)

	// A resident stands 40 m west of the border, in WEST. The phone
	// reports GCJ-02.
	resident := destination(Point{Lat: lat, Lng: border}, 270, 40)
	reported := WGS84ToGCJ02(resident)
	shift := DistanceMeters(resident, reported)
	t.Logf("GCJ-02 shift at the resident: %.0f m", shift)
	if shift < 100 {
		t.Fatalf("GCJ-02 shift only %.0f m; the test needs a large one", shift)
	}

	if code, _ := idx.Locate(GCJ02ToWGS84(reported)); code != "WEST" {
		t.Errorf("Locate(GCJ02ToWGS84(report)) = %q, want WEST", code)
	}
	if code, _ := idx.Locate(reported); code != "EAST" {
		t.Errorf("naive Locate(report) = %q; want the wrong grid EAST, or the test does not exercise the datum shift", code)
	}

	// Loading the file as if it were WGS-84 is just as wrong.
	naive, err := ParseGrids(collection(t, "", gcjGrids...))
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := NewIndex(naive).Locate(resident); code == "WEST" {
		t.Error("grids loaded without conversion still put the resident in WEST")
	}

	// Close to the border, the one-step inverse is not good enough either.
	// Put the resident half its error away from the border, on the side
	// from which that error carries the report across.
	probe := WGS84ToGCJ02(Point{Lat: lat, Lng: border})
	errLng := gcj02ToWGS84OneStep(probe).Lng - border // degrees; + means east
	if math.Abs(errLng) < 1e-6 {
		t.Fatalf("one-step longitude error %.2e° too small to demonstrate", errLng)
	}
	near := Point{Lat: lat, Lng: border - errLng/2}
	wantExact, wantOneStep := "WEST", "EAST"
	if errLng < 0 {
		wantExact, wantOneStep = "EAST", "WEST"
	}
	t.Logf("one-step inverse error here: %+.2f m east; resident %.2f m inside %s",
		errLng*metersPerDegree*math.Cos(radians(lat)), DistanceMeters(near, Point{Lat: lat, Lng: border}), wantExact)

	report := WGS84ToGCJ02(near)
	if code, _ := idx.Locate(GCJ02ToWGS84(report)); code != wantExact {
		t.Errorf("iterative inverse gives %q, want %q", code, wantExact)
	}
	if code, _ := idx.Locate(gcj02ToWGS84OneStep(report)); code != wantOneStep {
		t.Errorf("one-step inverse gives %q, expected it to land in the wrong grid %q", code, wantOneStep)
	}
}

// densify splits every edge of ring into n pieces, like the many-vertex
// borders of real grids.
func densify(ring orb.Ring, n int) orb.Ring {
	out := make(orb.Ring, 0, (len(ring)-1)*n+1)
	for i := 0; i+1 < len(ring); i++ {
		a, b := ring[i], ring[i+1]
		for k := range n {
			f := float64(k) / float64(n)
			out = append(out, orb.Point{a[0] + f*(b[0]-a[0]), a[1] + f*(b[1]-a[1])})
		}
	}
	return append(out, ring[len(ring)-1])
}

// mapShape applies f to every vertex of mp.
func mapShape(mp orb.MultiPolygon, f func(Point) Point) orb.MultiPolygon {
	out := mp.Clone()
	for _, poly := range out {
		for _, ring := range poly {
			for i, pt := range ring {
				q := f(Point{Lat: pt[1], Lng: pt[0]})
				ring[i] = orb.Point{q.Lng, q.Lat}
			}
		}
	}
	return out
}

func assertShapesClose(t *testing.T, got, want orb.MultiPolygon, tolM float64) {
	t.Helper()
	for pi := range want {
		for ri := range want[pi] {
			for i, w := range want[pi][ri] {
				g := got[pi][ri][i]
				if d := DistanceMeters(Point{Lat: g[1], Lng: g[0]}, Point{Lat: w[1], Lng: w[0]}); d > tolM {
					t.Fatalf("vertex %d/%d/%d: %v is %.4f m from %v", pi, ri, i, g, d, w)
				}
			}
		}
	}
}

// cityGrids tiles a city in Suqian with rows x cols squares of about
// 300 m, each edge split into 8 segments (33 positions per ring).
func cityGrids(rows, cols int) []Grid {
	const (
		lat0, lng0 = 33.90, 118.20
		dLat       = 0.0027  // ~300 m
		dLng       = 0.00325 // ~300 m at 34°N
	)
	grids := make([]Grid, 0, rows*cols)
	for r := range rows {
		for c := range cols {
			lat, lng := lat0+float64(r)*dLat, lng0+float64(c)*dLng
			grids = append(grids, Grid{
				Code:  fmt.Sprintf("321302%03d%03d", r, c),
				Shape: orb.MultiPolygon{{densify(square(lng, lat, lng+dLng, lat+dLat), 8)}},
			})
		}
	}
	return grids
}

func TestCityGrids(t *testing.T) {
	grids := cityGrids(50, 100)
	idx := NewIndex(grids)
	if idx.Len() != 5000 {
		t.Fatalf("Len = %d", idx.Len())
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for range 2000 {
		r, c := rng.IntN(50), rng.IntN(100)
		b := grids[r*100+c].Shape.Bound()
		p := Point{
			Lat: b.Min[1] + (0.01+0.98*rng.Float64())*(b.Max[1]-b.Min[1]),
			Lng: b.Min[0] + (0.01+0.98*rng.Float64())*(b.Max[0]-b.Min[0]),
		}
		if code, ok := idx.Locate(p); !ok || code != grids[r*100+c].Code {
			t.Fatalf("Locate(%v) = %q, %v; want %q", p, code, ok, grids[r*100+c].Code)
		}
	}
}

func BenchmarkLocate(b *testing.B) {
	grids := cityGrids(50, 100) // 5,000 grids
	idx := NewIndex(grids)
	bound := grids[0].Shape.Bound().Union(grids[len(grids)-1].Shape.Bound())

	rng := rand.New(rand.NewPCG(13, 14))
	points := make([]Point, 4096)
	for i := range points {
		points[i] = Point{
			Lat: bound.Min[1] + rng.Float64()*(bound.Max[1]-bound.Min[1]),
			Lng: bound.Min[0] + rng.Float64()*(bound.Max[0]-bound.Min[0]),
		}
	}

	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := idx.Locate(points[i%len(points)]); !ok {
			b.Fatal("point not located")
		}
		i++
	}
}

func BenchmarkNearest(b *testing.B) {
	grids := cityGrids(50, 100)
	idx := NewIndex(grids)
	bound := grids[0].Shape.Bound().Union(grids[len(grids)-1].Shape.Bound())

	// Points just outside the city, up to ~200 m from its edge.
	rng := rand.New(rand.NewPCG(15, 16))
	points := make([]Point, 4096)
	for i := range points {
		points[i] = Point{
			Lat: bound.Min[1] - rng.Float64()*0.0018,
			Lng: bound.Min[0] + rng.Float64()*(bound.Max[0]-bound.Min[0]),
		}
	}

	b.ReportAllocs()
	i := 0
	for b.Loop() {
		idx.Nearest(points[i%len(points)], 250)
		i++
	}
}

func BenchmarkNewIndex(b *testing.B) {
	grids := cityGrids(50, 100)
	b.ReportAllocs()
	for b.Loop() {
		NewIndex(grids)
	}
}

func BenchmarkCoverRadius(b *testing.B) {
	center := Point{Lat: 33.9631, Lng: 118.2752}
	b.ReportAllocs()
	for b.Loop() {
		CoverRadius(center, 500)
	}
}

func TestIndexConcurrentUse(t *testing.T) {
	idx := NewIndex(cityGrids(10, 10))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 17))
			for range 2000 {
				p := Point{Lat: 33.90 + rng.Float64()*0.027, Lng: 118.20 + rng.Float64()*0.0325}
				if _, ok := idx.Locate(p); !ok {
					t.Errorf("Locate(%v) found nothing", p)
					return
				}
				idx.Nearest(p, 100)
			}
		})
	}
	wg.Wait()
}
