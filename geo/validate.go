package geo

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// minAreaRatio is the smallest ratio of a ring's area to the area of its
// bounding box that is not treated as zero. It absorbs floating-point noise
// in rings whose vertices are all (nearly) on one line; a real grid is never
// that thin (1 km long and under a micrometre wide).
const minAreaRatio = 1e-9

// checkPositions checks the structure and coordinate values of every ring:
// count of positions, closure, ranges. It runs on the coordinates exactly as
// they were uploaded, before any datum conversion.
func checkPositions(mp orb.MultiPolygon) error {
	if len(mp) == 0 {
		return fmt.Errorf("geometry 没有多边形")
	}
	for pi, poly := range mp {
		if len(poly) == 0 {
			return fmt.Errorf("第 %d 个多边形没有环", pi)
		}
		for ri, ring := range poly {
			name := ringName(pi, ri)
			switch n := len(ring); {
			case n < 4:
				return fmt.Errorf("%s有 %d 个坐标点，至少需要 4 个", name, n)
			case n > MaxRingPositions:
				return fmt.Errorf("%s有 %d 个坐标点，上限是 %d 个", name, n, MaxRingPositions)
			}
			for i, pt := range ring {
				lng, lat := pt[0], pt[1]
				if math.IsNaN(lng) || math.IsNaN(lat) || math.IsInf(lng, 0) || math.IsInf(lat, 0) {
					return fmt.Errorf("%s第 %d 个坐标点不是有限的数", name, i)
				}
				if lng < -180 || lng > 180 || lat < -90 || lat > 90 {
					return fmt.Errorf("%s第 %d 个坐标点 [%g, %g] 超出范围（经度 -180..180，纬度 -90..90）",
						name, i, lng, lat)
				}
			}
			if ring[0] != ring[len(ring)-1] {
				return fmt.Errorf("%s没有闭合：首尾坐标点不同", name)
			}
		}
	}
	return nil
}

// checkTopology checks that every ring encloses an area and is simple, and
// that holes lie inside their outer ring. It expects rings that passed
// checkPositions.
//
// Not checked: holes overlapping each other, polygons of a MultiPolygon
// overlapping each other, and ring orientation.
func checkTopology(mp orb.MultiPolygon) error {
	for pi, poly := range mp {
		for ri, ring := range poly {
			name := ringName(pi, ri)
			if zeroArea(ring) {
				return fmt.Errorf("%s面积为零", name)
			}
			if err := checkSimple(ring); err != nil {
				return fmt.Errorf("%s自相交：%v", name, err)
			}
		}
		outer := poly[0]
		for ri := 1; ri < len(poly); ri++ {
			if !holeInside(outer, poly[ri]) {
				return fmt.Errorf("%s是洞，但不在外环（%s）之内",
					ringName(pi, ri), ringName(pi, 0))
			}
		}
	}
	return nil
}

func ringName(polygon, ring int) string {
	return fmt.Sprintf("第 %d 个多边形的第 %d 个环", polygon, ring)
}

// zeroArea reports whether the ring encloses no area, allowing for rounding.
func zeroArea(ring orb.Ring) bool {
	// Shoelace formula relative to the first vertex, which keeps the
	// products small and the rounding error low.
	o := ring[0]
	var twice float64
	for i := 1; i < len(ring)-1; i++ {
		a, b := ring[i], ring[i+1]
		twice += (a[0]-o[0])*(b[1]-o[1]) - (b[0]-o[0])*(a[1]-o[1])
	}
	area := math.Abs(twice) / 2

	bound := ring.Bound()
	boxArea := (bound.Max[0] - bound.Min[0]) * (bound.Max[1] - bound.Min[1])
	return area == 0 || area <= minAreaRatio*boxArea
}

// checkSimple reports the first place where a closed ring touches or
// crosses itself, or where it doubles back along its previous edge.
// Repeated consecutive positions are allowed and ignored.
func checkSimple(ring orb.Ring) error {
	// Drop the closing position and consecutive duplicates, remembering
	// where each remaining vertex was in the input.
	verts := make([]orb.Point, 0, len(ring))
	pos := make([]int, 0, len(ring))
	for i, pt := range ring[:len(ring)-1] {
		if len(verts) > 0 && verts[len(verts)-1] == pt {
			continue
		}
		verts = append(verts, pt)
		pos = append(pos, i)
	}
	for len(verts) > 1 && verts[len(verts)-1] == verts[0] {
		verts, pos = verts[:len(verts)-1], pos[:len(pos)-1]
	}
	n := len(verts)
	if n < 3 {
		return nil // degenerate; zeroArea reports it
	}

	// Adjacent edges share a vertex; they only conflict when the second
	// runs back over the first (a spike).
	for i := range n {
		a, b, c := verts[(i+n-1)%n], verts[i], verts[(i+1)%n]
		if orient(a, b, c) == 0 && dot(sub(b, a), sub(c, b)) < 0 {
			return fmt.Errorf("在第 %d 个坐标点 %s 处折返", pos[i], fmtPoint(b))
		}
	}

	segs := make([]segment, n)
	for i := range n {
		segs[i] = newSegment(verts[i], verts[(i+1)%n], 0, i)
	}
	adjacent := func(i, j int) bool {
		d := i - j
		return d == 1 || d == -1 || d == n-1 || d == -(n-1)
	}
	s, t, found := firstConflict(segs, func(s, t *segment) bool {
		return !adjacent(s.edge, t.edge) && segmentsIntersect(s.a, s.b, t.a, t.b)
	})
	if found {
		if s.edge > t.edge {
			s, t = t, s
		}
		return fmt.Errorf("从第 %d 个坐标点 %s 起的边与从第 %d 个坐标点 %s 起的边相交",
			pos[s.edge], fmtPoint(s.a), pos[t.edge], fmtPoint(t.a))
	}
	return nil
}

// holeInside reports whether the hole lies inside the outer ring. The hole
// may touch the outer ring but not cross it.
func holeInside(outer, hole orb.Ring) bool {
	segs := make([]segment, 0, len(outer)+len(hole))
	for i := 0; i+1 < len(outer); i++ {
		segs = append(segs, newSegment(outer[i], outer[i+1], 0, i))
	}
	for i := 0; i+1 < len(hole); i++ {
		segs = append(segs, newSegment(hole[i], hole[i+1], 1, i))
	}
	touch := false
	_, _, crossed := firstConflict(segs, func(s, t *segment) bool {
		if s.ring == t.ring || !segmentsIntersect(s.a, s.b, t.a, t.b) {
			return false
		}
		if segmentsCross(s.a, s.b, t.a, t.b) {
			return true
		}
		touch = true
		return false // keep looking for a real crossing
	})
	if crossed {
		return false
	}
	if !touch {
		// The rings do not meet, so the hole is wholly inside or wholly
		// outside, and any vertex tells which.
		return planar.RingContains(outer, hole[0])
	}

	// The rings touch, so the hole may leave the outer ring through a
	// touching point. Every vertex and edge midpoint must be inside or on
	// the outer ring. This is quadratic, but only for touching holes.
	for i := 0; i+1 < len(hole); i++ {
		a, b := hole[i], hole[i+1]
		mid := orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}
		if !planar.RingContains(outer, a) || !planar.RingContains(outer, mid) {
			return false
		}
	}
	return true
}

// segment is a ring edge prepared for the sweep in firstConflict.
type segment struct {
	a, b       orb.Point
	ring, edge int
	minX, maxX float64
	minY, maxY float64
}

func newSegment(a, b orb.Point, ring, edge int) segment {
	return segment{
		a: a, b: b, ring: ring, edge: edge,
		minX: min(a[0], b[0]), maxX: max(a[0], b[0]),
		minY: min(a[1], b[1]), maxY: max(a[1], b[1]),
	}
}

// firstConflict finds a pair of segments with overlapping bounding boxes for
// which conflict reports true. It sweeps along x so that, for typical
// polygons, only nearby segments are compared; the worst case stays
// quadratic, which MaxRingPositions bounds. segs is reordered.
func firstConflict(segs []segment, conflict func(s, t *segment) bool) (s, t *segment, found bool) {
	slices.SortFunc(segs, func(s, t segment) int { return cmp.Compare(s.minX, t.minX) })
	for i := range segs {
		s := &segs[i]
		for j := i + 1; j < len(segs) && segs[j].minX <= s.maxX; j++ {
			t := &segs[j]
			if t.maxY < s.minY || t.minY > s.maxY {
				continue
			}
			if conflict(s, t) {
				return s, t, true
			}
		}
	}
	return nil, nil, false
}

// orient returns twice the signed area of the triangle abc: positive if c is
// left of a->b, negative if right, zero if collinear.
func orient(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

func sub(a, b orb.Point) orb.Point { return orb.Point{a[0] - b[0], a[1] - b[1]} }

func dot(a, b orb.Point) float64 { return a[0]*b[0] + a[1]*b[1] }

// segmentsCross reports whether segments ab and cd cross at a single point
// interior to both.
func segmentsCross(a, b, c, d orb.Point) bool {
	o1, o2 := orient(a, b, c), orient(a, b, d)
	o3, o4 := orient(c, d, a), orient(c, d, b)
	return ((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) &&
		((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0))
}

// segmentsIntersect reports whether segments ab and cd share any point,
// including touching endpoints and collinear overlap.
func segmentsIntersect(a, b, c, d orb.Point) bool {
	if segmentsCross(a, b, c, d) {
		return true
	}
	return (orient(a, b, c) == 0 && onSegment(a, b, c)) ||
		(orient(a, b, d) == 0 && onSegment(a, b, d)) ||
		(orient(c, d, a) == 0 && onSegment(c, d, a)) ||
		(orient(c, d, b) == 0 && onSegment(c, d, b))
}

// onSegment reports whether p, known to be collinear with ab, lies on ab.
func onSegment(a, b, p orb.Point) bool {
	return p[0] >= min(a[0], b[0]) && p[0] <= max(a[0], b[0]) &&
		p[1] >= min(a[1], b[1]) && p[1] <= max(a[1], b[1])
}

func fmtPoint(p orb.Point) string {
	return fmt.Sprintf("[%g, %g]", p[0], p[1])
}
