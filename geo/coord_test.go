package geo

import (
	"encoding/csv"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
)

// pair is one row of testdata/gcj02-pairs.csv: a WGS-84 position and its
// GCJ-02 equivalent as computed by the npm coordtransform package.
type pair struct {
	name  string
	wgs84 Point
	gcj02 Point
}

func loadPairs(t testing.TB) []pair {
	t.Helper()
	f, err := os.Open("../testdata/gcj02-pairs.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 {
		t.Fatal("gcj02-pairs.csv has no data rows")
	}
	want := []string{"name", "wgs84_lng", "wgs84_lat", "gcj02_lng", "gcj02_lat"}
	if !slices.Equal(rows[0], want) {
		t.Fatalf("header = %v, want %v", rows[0], want)
	}

	pairs := make([]pair, 0, len(rows)-1)
	for i, row := range rows[1:] {
		var v [4]float64
		for j := range v {
			v[j], err = strconv.ParseFloat(row[j+1], 64)
			if err != nil {
				t.Fatalf("row %d column %d: %v", i+2, j+2, err)
			}
		}
		pairs = append(pairs, pair{
			name:  row[0],
			wgs84: Point{Lat: v[1], Lng: v[0]},
			gcj02: Point{Lat: v[3], Lng: v[2]},
		})
	}
	return pairs
}

func TestWGS84ToGCJ02MatchesReference(t *testing.T) {
	const tolerance = 0.01 // metres
	for _, p := range loadPairs(t) {
		got := WGS84ToGCJ02(p.wgs84)
		if d := DistanceMeters(got, p.gcj02); d > tolerance {
			t.Errorf("%s: WGS84ToGCJ02(%v) = %v, want %v (off by %.4f m)", p.name, p.wgs84, got, p.gcj02, d)
		}
	}
}

func TestGCJ02ToWGS84MatchesReference(t *testing.T) {
	// The requirement is 1 m; the iterative inverse is limited only by the
	// 7-decimal rounding of the reference WGS-84 values (< 8 mm).
	const tolerance = 0.01 // metres
	var worst float64
	for _, p := range loadPairs(t) {
		got := GCJ02ToWGS84(p.gcj02)
		d := DistanceMeters(got, p.wgs84)
		worst = max(worst, d)
		if d > tolerance {
			t.Errorf("%s: GCJ02ToWGS84(%v) = %v, want %v (off by %.4f m)", p.name, p.gcj02, got, p.wgs84, d)
		}
		// Independent of the reference's rounding: the result must map
		// forward onto the input almost exactly.
		if d := DistanceMeters(WGS84ToGCJ02(got), p.gcj02); d > 1e-4 {
			t.Errorf("%s: WGS84ToGCJ02(GCJ02ToWGS84(%v)) is %.6f m off", p.name, p.gcj02, d)
		}
	}
	t.Logf("worst inverse error: %.4f m", worst)
}

// TestOneStepInverseIsNotEnough shows why GCJ02ToWGS84 iterates: the
// classic one-step inverse misses the same tight bound, by metres.
func TestOneStepInverseIsNotEnough(t *testing.T) {
	const tolerance = 0.01 // metres, as in TestGCJ02ToWGS84MatchesReference
	pairs := loadPairs(t)
	var misses int
	var worst float64
	for _, p := range pairs {
		d := DistanceMeters(gcj02ToWGS84OneStep(p.gcj02), p.wgs84)
		worst = max(worst, d)
		if d > tolerance {
			misses++
		}
	}
	t.Logf("one-step inverse misses %d of %d pairs, worst error %.2f m", misses, len(pairs), worst)
	if misses < len(pairs)*9/10 {
		t.Errorf("one-step inverse misses only %d of %d pairs; expected nearly all", misses, len(pairs))
	}
	if worst < 1 {
		t.Errorf("worst one-step error = %.3f m, expected over 1 m", worst)
	}
}

func TestGCJ02ConversionOutsideChina(t *testing.T) {
	for _, p := range []Point{
		{Lat: 51.5007, Lng: -0.1246},  // London
		{Lat: 35.6586, Lng: 139.7454}, // Tokyo, east of the box
		{Lat: -33.8568, Lng: 151.2153},
		{Lat: 60, Lng: 100}, // north of the box
	} {
		if got := WGS84ToGCJ02(p); got != p {
			t.Errorf("WGS84ToGCJ02(%v) = %v, want unchanged", p, got)
		}
		if got := GCJ02ToWGS84(p); got != p {
			t.Errorf("GCJ02ToWGS84(%v) = %v, want unchanged", p, got)
		}
	}
}

func TestInChina(t *testing.T) {
	tests := []struct {
		name string
		p    Point
		want bool
	}{
		{"Beijing", Point{Lat: 39.9087, Lng: 116.3975}, true},
		{"Suqian", Point{Lat: 33.9631, Lng: 118.2752}, true},
		{"Urumqi", Point{Lat: 43.8256, Lng: 87.6168}, true},
		{"Haikou", Point{Lat: 20.0311, Lng: 110.3312}, true},
		{"south-west corner", Point{Lat: 0.8293, Lng: 72.004}, true},
		{"north-east corner", Point{Lat: 55.8271, Lng: 137.8347}, true},
		{"just west", Point{Lat: 30, Lng: 72.0039}, false},
		{"just east", Point{Lat: 30, Lng: 137.8348}, false},
		{"just south", Point{Lat: 0.8292, Lng: 100}, false},
		{"just north", Point{Lat: 55.8272, Lng: 100}, false},
		{"London", Point{Lat: 51.5007, Lng: -0.1246}, false},
		{"Tokyo", Point{Lat: 35.6586, Lng: 139.7454}, false},
		// The box is a rectangle, not a border: Seoul is inside it.
		{"Seoul", Point{Lat: 37.5665, Lng: 126.978}, true},
		{"NaN", Point{Lat: math.NaN(), Lng: 116}, false},
	}
	for _, tt := range tests {
		if got := InChina(tt.p); got != tt.want {
			t.Errorf("%s: InChina(%v) = %v, want %v", tt.name, tt.p, got, tt.want)
		}
	}
}

func TestDistanceMeters(t *testing.T) {
	tests := []struct {
		name string
		a, b Point
		want float64 // metres
		tol  float64
	}{
		{"same point", Point{Lat: 33.96, Lng: 118.27}, Point{Lat: 33.96, Lng: 118.27}, 0, 1e-9},
		{"one degree of latitude", Point{Lat: 0, Lng: 0}, Point{Lat: 1, Lng: 0}, metersPerDegree, 1e-6},
		{"one degree of longitude at 60N", Point{Lat: 60, Lng: 10}, Point{Lat: 60, Lng: 11}, 55597.5, 1},
		{"quarter meridian", Point{Lat: 0, Lng: 0}, Point{Lat: 90, Lng: 0}, EarthRadiusMeters * math.Pi / 2, 1e-6},
		{"antipodes", Point{Lat: 0, Lng: 0}, Point{Lat: 0, Lng: 180}, EarthRadiusMeters * math.Pi, 1e-6},
		// Beijing Tiananmen to Shanghai People's Square, about 1067 km.
		{"Beijing-Shanghai", Point{Lat: 39.9087, Lng: 116.3975}, Point{Lat: 31.2304, Lng: 121.4737}, 1_067_000, 2_000},
	}
	for _, tt := range tests {
		got := DistanceMeters(tt.a, tt.b)
		if math.Abs(got-tt.want) > tt.tol {
			t.Errorf("%s: DistanceMeters = %.3f, want %.3f ± %g", tt.name, got, tt.want, tt.tol)
		}
		if back := DistanceMeters(tt.b, tt.a); back != got {
			t.Errorf("%s: not symmetric: %v vs %v", tt.name, got, back)
		}
	}
}

// assertRoundTrip checks GCJ02ToWGS84(WGS84ToGCJ02(p)) ≈ p within 1 mm.
func assertRoundTrip(t *testing.T, p Point) {
	t.Helper()
	back := GCJ02ToWGS84(WGS84ToGCJ02(p))
	if d := DistanceMeters(back, p); d > 0.001 {
		t.Fatalf("round trip of %v gave %v, %.6f m away", p, back, d)
	}
}

// innerChina returns a point inside the GCJ-02 box with a margin of 0.01°
// (more than the largest GCJ-02 offset), so that the shifted point is still
// in the box and the round trip is defined. u and v are in [0, 1].
func innerChina(u, v float64) Point {
	const margin = 0.01
	return Point{
		Lat: chinaMinLat + margin + v*(chinaMaxLat-chinaMinLat-2*margin),
		Lng: chinaMinLng + margin + u*(chinaMaxLng-chinaMinLng-2*margin),
	}
}

func TestGCJ02RoundTripProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var worst float64
	for range 100_000 {
		p := innerChina(rng.Float64(), rng.Float64())
		assertRoundTrip(t, p)
		worst = max(worst, DistanceMeters(GCJ02ToWGS84(WGS84ToGCJ02(p)), p))
	}
	t.Logf("worst round-trip error: %.2e m", worst)
}

func FuzzGCJ02RoundTrip(f *testing.F) {
	f.Add(0.5, 0.5)
	f.Add(0.0, 0.0)
	f.Add(1.0, 1.0)
	f.Add(0.6, 0.6)
	f.Fuzz(func(t *testing.T, u, v float64) {
		if math.IsNaN(u) || math.IsNaN(v) || math.IsInf(u, 0) || math.IsInf(v, 0) {
			t.Skip()
		}
		// Fold arbitrary floats into [0, 1].
		u, v = math.Abs(math.Mod(u, 1)), math.Abs(math.Mod(v, 1))
		assertRoundTrip(t, innerChina(u, v))
	})
}
