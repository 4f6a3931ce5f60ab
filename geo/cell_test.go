package geo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestEncodeKnownValues(t *testing.T) {
	tests := []struct {
		p         Point
		precision int
		want      string
	}{
		// Examples from the geohash Wikipedia article and geohash.org.
		{Point{Lat: 42.6, Lng: -5.6}, 5, "ezs42"},
		{Point{Lat: 57.64911, Lng: 10.40744}, 11, "u4pruydqqvj"},
		{Point{Lat: 0, Lng: 0}, 4, "s000"},
		{Point{Lat: -90, Lng: -180}, 3, "000"},
		{Point{Lat: 90, Lng: 180}, 3, "zzz"},
		// Precision is clamped to 1..12.
		{Point{Lat: 42.6, Lng: -5.6}, 0, "e"},
		{Point{Lat: 42.6, Lng: -5.6}, -3, "e"},
		{Point{Lat: 57.64911, Lng: 10.40744}, 20, Encode(Point{Lat: 57.64911, Lng: 10.40744}, 12)},
	}
	for _, tt := range tests {
		if got := Encode(tt.p, tt.precision); got != tt.want {
			t.Errorf("Encode(%v, %d) = %q, want %q", tt.p, tt.precision, got, tt.want)
		}
	}
	if got := len(Encode(Point{Lat: 1, Lng: 1}, 20)); got != MaxPrecision {
		t.Errorf("len(Encode(_, 20)) = %d, want %d", got, MaxPrecision)
	}
}

func TestBounds(t *testing.T) {
	box, err := Bounds("ezs42")
	if err != nil {
		t.Fatal(err)
	}
	// geohash.org: ezs42 is 42.605 ± 0.022, -5.603 ± 0.022.
	c := box.Center()
	if math.Abs(c.Lat-42.605) > 0.001 || math.Abs(c.Lng-(-5.603)) > 0.001 {
		t.Errorf("center of ezs42 = %v, want about 42.605,-5.603", c)
	}
	h, w := cellSize(5)
	if got := box.Max.Lat - box.Min.Lat; got != h {
		t.Errorf("height = %v, want %v", got, h)
	}
	if got := box.Max.Lng - box.Min.Lng; got != w {
		t.Errorf("width = %v, want %v", got, w)
	}

	for _, bad := range []string{"", "a", "ezs4i", "EZS42", "ezs4 ", "0123456789bcd"} {
		if _, err := Bounds(bad); err == nil {
			t.Errorf("Bounds(%q) succeeded, want an error", bad)
		}
	}
}

func TestEncodeBoundsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 10_000 {
		p := Point{Lat: rng.Float64()*180 - 90, Lng: rng.Float64()*360 - 180}
		for prec := 1; prec <= MaxPrecision; prec++ {
			h := Encode(p, prec)
			box, err := Bounds(h)
			if err != nil {
				t.Fatalf("Bounds(%q): %v", h, err)
			}
			if !box.Contains(p) {
				t.Fatalf("Bounds(Encode(%v, %d) = %q) = %v does not contain the point", p, prec, h, box)
			}
			if got := Encode(box.Center(), prec); got != h {
				t.Fatalf("Encode(center of %q) = %q", h, got)
			}
		}
	}
}

func TestNeighbors(t *testing.T) {
	// dLat, dLng of each neighbour, in the documented order.
	dirs := [8][2]float64{{1, 0}, {1, 1}, {0, 1}, {-1, 1}, {-1, 0}, {-1, -1}, {0, -1}, {1, -1}}

	rng := rand.New(rand.NewPCG(5, 6))
	for range 2_000 {
		prec := 1 + rng.IntN(MaxPrecision)
		p := Point{Lat: rng.Float64()*180 - 90, Lng: rng.Float64()*360 - 180}
		h := Encode(p, prec)
		box, _ := Bounds(h)
		height, width := cellSize(prec)
		if box.Max.Lat+height > 90 || box.Min.Lat-height < -90 {
			continue // touches a pole: covered by TestNeighborsEdgeCases
		}

		got := Neighbors(h)
		if len(got) != 8 {
			t.Fatalf("Neighbors(%q) = %v, want 8 cells", h, got)
		}
		for i, n := range got {
			nb, err := Bounds(n)
			if err != nil {
				t.Fatalf("neighbour %q of %q: %v", n, h, err)
			}
			wantLat := box.Min.Lat + dirs[i][0]*height
			wantLng := wrapLng(box.Min.Lng + dirs[i][1]*width)
			if nb.Min.Lat != wantLat || math.Abs(nb.Min.Lng-wantLng) > 1e-9 {
				t.Fatalf("neighbour %d of %q is %q at %v, want south-west corner %v,%v",
					i, h, n, nb.Min, wantLat, wantLng)
			}
		}
	}
}

func TestNeighborsEdgeCases(t *testing.T) {
	// "zzzz" touches the north pole and the antimeridian.
	got := Neighbors("zzzz")
	if len(got) != 5 {
		t.Fatalf("Neighbors(zzzz) = %v, want 5 cells (none north of the pole)", got)
	}
	east, _ := Bounds(got[0]) // E is the first one left after N, NE
	if east.Min.Lng != -180 {
		t.Errorf("east neighbour of zzzz = %q at %v, want it to wrap to -180", got[0], east)
	}
	if Neighbors("") != nil || Neighbors("ezs4!") != nil {
		t.Error("Neighbors of an invalid hash should be nil")
	}
	// Wikipedia example: the cell north of ezs42 is ezs48.
	if n := Neighbors("ezs42")[0]; n != "ezs48" {
		t.Errorf("north of ezs42 = %q, want ezs48", n)
	}
}

func TestCells(t *testing.T) {
	p := Point{Lat: 33.9631, Lng: 118.2752}
	got := Cells(p)
	if len(got) != MaxCellPrecision-MinCellPrecision+1 {
		t.Fatalf("Cells = %v", got)
	}
	for i, c := range got {
		if want := Encode(p, MinCellPrecision+i); c != want {
			t.Errorf("Cells[%d] = %q, want %q", i, c, want)
		}
	}
}

func TestCellPrecisionFor(t *testing.T) {
	tests := []struct {
		radius float64
		want   int
	}{
		{0, 7}, {10, 7}, {50, 7}, {76, 7},
		{77, 6}, {100, 6}, {500, 6}, {610, 6},
		{611, 5}, {1000, 5}, {2000, 5}, {2400, 5}, {10_000, 5}, {1e9, 5},
	}
	for _, tt := range tests {
		if got := CellPrecisionFor(tt.radius); got != tt.want {
			t.Errorf("CellPrecisionFor(%v) = %d, want %d", tt.radius, got, tt.want)
		}
	}
	prev := MaxCellPrecision
	for r := 0.0; r <= 5000; r += 0.5 {
		got := CellPrecisionFor(r)
		if got > prev || got < MinCellPrecision || got > MaxCellPrecision {
			t.Fatalf("CellPrecisionFor(%v) = %d after %d: not monotonic or out of range", r, got, prev)
		}
		prev = got
	}
}

// destination returns the point at distance d metres and the given bearing
// (degrees clockwise from north) from p, on the sphere of DistanceMeters.
func destination(p Point, bearing, d float64) Point {
	lat1, lng1 := radians(p.Lat), radians(p.Lng)
	theta, delta := radians(bearing), d/EarthRadiusMeters
	lat2 := math.Asin(math.Sin(lat1)*math.Cos(delta) + math.Cos(lat1)*math.Sin(delta)*math.Cos(theta))
	lng2 := lng1 + math.Atan2(math.Sin(theta)*math.Sin(delta)*math.Cos(lat1),
		math.Cos(delta)-math.Sin(lat1)*math.Sin(lat2))
	return Point{Lat: degrees(lat2), Lng: wrapLng(degrees(lng2))}
}

// checkCover asserts that every sampled point on or inside the circle lies
// in one of the cells CoverRadius returns, and that a point stored with
// Cells matches the cover through one of its prefixes.
func checkCover(t *testing.T, rng *rand.Rand, center Point, radius float64) []string {
	t.Helper()
	cover := CoverRadius(center, radius)
	if len(cover) == 0 {
		t.Fatalf("CoverRadius(%v, %v) is empty", center, radius)
	}
	prec := len(cover[0])
	if prec != CellPrecisionFor(radius) {
		t.Fatalf("CoverRadius(%v, %v) uses precision %d, want %d", center, radius, prec, CellPrecisionFor(radius))
	}
	if cover[0] != Encode(center, prec) {
		t.Fatalf("first cell %q is not the centre's cell %q", cover[0], Encode(center, prec))
	}
	seen := make(map[string]bool, len(cover))
	for _, c := range cover {
		if len(c) != prec {
			t.Fatalf("cover mixes precisions: %v", cover)
		}
		if seen[c] {
			t.Fatalf("cover has %q twice", c)
		}
		seen[c] = true
	}

	check := func(q Point, what string) {
		if !seen[Encode(q, prec)] {
			t.Fatalf("CoverRadius(%v, %v m) = %v misses %s %v (cell %s, %.3f m away)",
				center, radius, cover, what, q, Encode(q, prec), DistanceMeters(center, q))
		}
		if !slices.ContainsFunc(Cells(q), func(c string) bool { return seen[c] }) {
			t.Fatalf("no prefix in Cells(%v) = %v is in the cover %v", q, Cells(q), cover)
		}
	}
	for b := 0.0; b < 360; b += 2 {
		check(destination(center, b, radius), "point on the circle")
	}
	for range 200 {
		d := radius * math.Sqrt(rng.Float64())
		check(destination(center, rng.Float64()*360, d), "point inside the circle")
	}
	return cover
}

func TestCoverRadiusCoversCircle(t *testing.T) {
	radii := []float64{0, 1, 10, 50, 76, 77, 100, 300, 610, 611, 700, 1000, 1500, 2000, 2500, 5000, 10_000}
	rng := rand.New(rand.NewPCG(7, 8))

	// Random centres across China.
	for range 300 {
		center := Point{Lat: 18 + rng.Float64()*36, Lng: 73 + rng.Float64()*62}
		for _, r := range radii {
			cover := checkCover(t, rng, center, r)
			if r <= 2000 && len(cover) != 9 {
				t.Fatalf("CoverRadius(%v, %v) has %d cells, want 9", center, r, len(cover))
			}
		}
	}

	// Worst cases: centres on the corners of their cell, where the circle
	// reaches furthest into the neighbours.
	for _, r := range radii {
		prec := CellPrecisionFor(r)
		for range 50 {
			box, _ := Bounds(Encode(Point{Lat: 18 + rng.Float64()*42, Lng: 73 + rng.Float64()*62}, prec))
			for _, center := range []Point{
				box.Min,
				{Lat: math.Nextafter(box.Max.Lat, -90), Lng: math.Nextafter(box.Max.Lng, -180)},
				{Lat: box.Min.Lat, Lng: math.Nextafter(box.Max.Lng, -180)},
				{Lat: math.Nextafter(box.Max.Lat, -90), Lng: box.Min.Lng},
			} {
				cover := checkCover(t, rng, center, r)
				if r <= 2000 && center.Lat <= 60 && len(cover) != 9 {
					t.Fatalf("CoverRadius(%v, %v) has %d cells, want 9", center, r, len(cover))
				}
			}
		}
	}

	// Far north, across the antimeridian and the equator: more rings, still complete.
	for _, center := range []Point{
		{Lat: 79.9, Lng: 20}, {Lat: -79.9, Lng: -70}, {Lat: 70, Lng: 179.999},
		{Lat: 0, Lng: -179.9999}, {Lat: 0.0001, Lng: 0.0001}, {Lat: 53.5, Lng: 122.3}, // Mohe
	} {
		for _, r := range radii {
			checkCover(t, rng, center, r)
		}
	}
}

func TestCoverRadiusRejects(t *testing.T) {
	tests := []struct {
		center Point
		radius float64
	}{
		{Point{Lat: 34, Lng: 118}, -1},
		{Point{Lat: 34, Lng: 118}, math.NaN()},
		{Point{Lat: 34, Lng: 118}, math.Inf(1)},
		{Point{Lat: 34, Lng: 118}, MaxCoverRadiusMeters + 1},
		{Point{Lat: 85, Lng: 118}, 100},
		{Point{Lat: math.NaN(), Lng: 118}, 100},
		{Point{Lat: 34, Lng: 200}, 100},
	}
	for _, tt := range tests {
		if got := CoverRadius(tt.center, tt.radius); got != nil {
			t.Errorf("CoverRadius(%v, %v) = %v, want nil", tt.center, tt.radius, got)
		}
	}
}

func ExampleCoverRadius() {
	center := Point{Lat: 33.9631, Lng: 118.2752} // Suqian
	fmt.Println(CellPrecisionFor(500))
	fmt.Println(CoverRadius(center, 500))
	fmt.Println(Cells(center))
	// Output:
	// 6
	// [wwh15q wwh15p wwh15r wwh15x wwh15n wwh15w wwh15j wwh15m wwh15t]
	// [wwh15 wwh15q wwh15qv]
}
