package geo

import (
	"fmt"
	"math"
)

// Geohash cells let a database without geo queries answer "what is near"
// with an indexed equality match:
//
//	// On write: store every prefix the point falls in.
//	ticket.Cells = geo.Cells(ticket.Location) // e.g. ["wtw3s", "wtw3sj", "wtw3sjq"]
//
//	// On read: fetch candidates with an indexed $in, then filter exactly.
//	filter := bson.M{"cells": bson.M{"$in": geo.CoverRadius(center, radius)}}
//	// ... keep only documents with geo.DistanceMeters(center, loc) <= radius.
//
// A multikey index on "cells" (an array of strings, not a nested array) makes
// the $in an index lookup.

// MaxPrecision is the longest geohash Encode produces. Twelve characters
// resolve positions to a few centimetres.
const MaxPrecision = 12

// Geohash precisions used for proximity search. Cells stores a prefix at each
// precision in MinCellPrecision..MaxCellPrecision and CoverRadius only returns
// cells at those precisions.
//
// Cell sizes: precision 5 is about 4.9 x 4.9 km, 6 is 1.2 x 0.6 km and 7 is
// 153 x 153 m (width measured at the equator; it shrinks with cos(latitude)).
const (
	// MinCellPrecision is the coarsest precision Cells stores and
	// CoverRadius returns.
	MinCellPrecision = 5
	// MaxCellPrecision is the finest precision Cells stores and CoverRadius
	// returns.
	MaxCellPrecision = 7
)

// Limits of CoverRadius. Beyond them CoverRadius returns nil.
const (
	// MaxCoverRadiusMeters is the largest radius CoverRadius accepts.
	MaxCoverRadiusMeters = 10_000

	// MaxCoverLatitude is the largest absolute latitude CoverRadius accepts.
	// Towards the poles cells get so narrow that covering a circle would
	// need hundreds of them.
	MaxCoverLatitude = 80
)

// coverDesignLatitude is the latitude up to which CellPrecisionFor
// guarantees that a cell and its eight neighbours cover the circle. It
// includes all of China (northernmost point about 53.6°N).
const coverDesignLatitude = 60

// coverSafety shrinks the usable cell size by a relative 1e-9 so that the
// coverage decision is never made on a floating-point knife edge.
const coverSafety = 1 + 1e-9

const geohashAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

// Box is a latitude/longitude rectangle, such as the area of a geohash cell.
type Box struct {
	Min Point // south-west corner
	Max Point // north-east corner
}

// Center returns the middle of b.
func (b Box) Center() Point {
	return Point{Lat: (b.Min.Lat + b.Max.Lat) / 2, Lng: (b.Min.Lng + b.Max.Lng) / 2}
}

// Contains reports whether p lies in b, edges included.
func (b Box) Contains(p Point) bool {
	return p.Lat >= b.Min.Lat && p.Lat <= b.Max.Lat &&
		p.Lng >= b.Min.Lng && p.Lng <= b.Max.Lng
}

// Encode returns the standard base-32 geohash of p with the given number of
// characters. precision is clamped to 1..MaxPrecision. Coordinates outside
// the valid ranges are clamped to them.
//
// A cell includes its south and west edges; a point on a north or east edge
// belongs to the next cell (except at latitude 90 and longitude 180).
func Encode(p Point, precision int) string {
	precision = min(max(precision, 1), MaxPrecision)
	lat := min(max(p.Lat, -90), 90)
	lng := min(max(p.Lng, -180), 180)

	latLo, latHi := -90.0, 90.0
	lngLo, lngHi := -180.0, 180.0
	lngBit := true // geohash interleaves bits starting with longitude

	var buf [MaxPrecision]byte
	for i := range precision {
		var idx byte
		for range 5 {
			idx <<= 1
			if lngBit {
				mid := (lngLo + lngHi) / 2
				if lng >= mid {
					idx |= 1
					lngLo = mid
				} else {
					lngHi = mid
				}
			} else {
				mid := (latLo + latHi) / 2
				if lat >= mid {
					idx |= 1
					latLo = mid
				} else {
					latHi = mid
				}
			}
			lngBit = !lngBit
		}
		buf[i] = geohashAlphabet[idx]
	}
	return string(buf[:precision])
}

// Bounds returns the rectangle covered by a geohash. It fails for an empty
// hash, a hash longer than MaxPrecision, or a character outside the
// lower-case geohash alphabet.
func Bounds(hash string) (Box, error) {
	if hash == "" {
		return Box{}, fmt.Errorf("geohash is empty")
	}
	if len(hash) > MaxPrecision {
		return Box{}, fmt.Errorf("geohash %q is longer than %d characters", hash, MaxPrecision)
	}

	latLo, latHi := -90.0, 90.0
	lngLo, lngHi := -180.0, 180.0
	lngBit := true

	for i := 0; i < len(hash); i++ {
		idx := geohashIndex(hash[i])
		if idx < 0 {
			return Box{}, fmt.Errorf("geohash %q has invalid character %q", hash, hash[i])
		}
		for bit := 4; bit >= 0; bit-- {
			set := idx>>bit&1 == 1
			if lngBit {
				mid := (lngLo + lngHi) / 2
				if set {
					lngLo = mid
				} else {
					lngHi = mid
				}
			} else {
				mid := (latLo + latHi) / 2
				if set {
					latLo = mid
				} else {
					latHi = mid
				}
			}
			lngBit = !lngBit
		}
	}
	return Box{Min: Point{Lat: latLo, Lng: lngLo}, Max: Point{Lat: latHi, Lng: lngHi}}, nil
}

// Neighbors returns the eight cells around hash, at the same precision, in
// the order N, NE, E, SE, S, SW, W, NW. Longitude wraps around the
// antimeridian; next to a pole the cells beyond it are left out, so fewer
// than eight are returned. An invalid hash (see Bounds) yields nil.
func Neighbors(hash string) []string {
	box, err := Bounds(hash)
	if err != nil {
		return nil
	}

	offsets := [8][2]int{ // {dLat, dLng} in cells
		{1, 0}, {1, 1}, {0, 1}, {-1, 1}, {-1, 0}, {-1, -1}, {0, -1}, {1, -1},
	}
	out := make([]string, 0, len(offsets))
	for _, o := range offsets {
		if h, ok := cellAt(box, o[0], o[1], len(hash)); ok {
			out = append(out, h)
		}
	}
	return out
}

// Cells returns the geohash prefixes to store with a point for proximity
// search: one per precision from MinCellPrecision to MaxCellPrecision,
// coarsest first.
//
// Contract with CoverRadius: every cell CoverRadius returns has a precision in
// MinCellPrecision..MaxCellPrecision, for every radius it accepts (up to
// MaxCoverRadiusMeters, so in particular every radius up to 2000 m). Hence a
// point within the radius always has one of its Cells among the cells
// CoverRadius returns, and {cells: {$in: CoverRadius(c, r)}} finds it.
func Cells(p Point) []string {
	h := Encode(p, MaxCellPrecision)
	out := make([]string, 0, MaxCellPrecision-MinCellPrecision+1)
	for prec := MinCellPrecision; prec <= MaxCellPrecision; prec++ {
		out = append(out, h[:prec])
	}
	return out
}

// CellPrecisionFor returns the geohash precision CoverRadius uses for a
// circle of radius radiusM metres: the finest precision in
// MinCellPrecision..MaxCellPrecision whose cells are large enough that a
// cell and its eight neighbours always contain the circle at latitudes up to
// 60° (all of China). The result depends on the radius only:
//
//	radius up to ~76 m    -> 7
//	radius up to ~610 m   -> 6
//	larger                -> 5
func CellPrecisionFor(radiusM float64) int {
	for prec := MaxCellPrecision; prec > MinCellPrecision; prec-- {
		if ringsNeeded(prec, coverDesignLatitude, radiusM) <= 1 {
			return prec
		}
	}
	return MinCellPrecision
}

// CoverRadius returns geohash cells that together contain every point within
// radiusM metres (by DistanceMeters) of center. The cells have precision
// CellPrecisionFor(radiusM); the cell containing center comes first.
//
// Normally, and always for radii up to 2000 m at latitudes up to 60°, the
// result is that cell plus its eight neighbours. Larger circles (or circles
// further north, where cells are narrower) get as many extra rings of cells
// as needed, so the result stays complete. The cover is conservative: it
// returns candidates, and the caller filters them with DistanceMeters.
//
// CoverRadius returns nil if center is not a valid position, if radiusM is
// negative, NaN or above MaxCoverRadiusMeters, or if |center.Lat| exceeds
// MaxCoverLatitude.
func CoverRadius(center Point, radiusM float64) []string {
	if !center.Valid() || math.Abs(center.Lat) > MaxCoverLatitude ||
		!(radiusM >= 0 && radiusM <= MaxCoverRadiusMeters) {
		return nil
	}

	prec := CellPrecisionFor(radiusM)
	rings := ringsNeeded(prec, center.Lat, radiusM)
	home := Encode(center, prec)
	box, _ := Bounds(home) // home is valid: Encode made it

	// With at most MaxCoverRadiusMeters at MaxCoverLatitude the block spans
	// a few dozen cells, far fewer than the 8192 columns of precision 5, so
	// wrapping around the antimeridian never produces duplicates.
	side := 2*rings + 1
	out := make([]string, 0, side*side)
	out = append(out, home)
	for dLat := rings; dLat >= -rings; dLat-- {
		for dLng := -rings; dLng <= rings; dLng++ {
			if dLat == 0 && dLng == 0 {
				continue
			}
			if h, ok := cellAt(box, dLat, dLng, prec); ok {
				out = append(out, h)
			}
		}
	}
	return out
}

// ringsNeeded returns how many rings of cells of the given precision must
// surround the cell containing a point at latitude lat so that the block
// contains every point within radiusM of it. It returns a huge number if the
// circle reaches a pole.
//
// On a sphere the points within angular distance d of (lat0, lng0) have
// |lat - lat0| <= d and |lng - lng0| <= asin(sin d / cos lat0), as long as
// the circle does not contain a pole. The point lies somewhere in its own
// cell, so k rings suffice when both bounds are at most k cell sizes.
func ringsNeeded(prec int, lat, radiusM float64) int {
	d := radiusM / EarthRadiusMeters // angular radius, radians
	latRad := radians(math.Abs(lat))
	if latRad+d >= math.Pi/2 {
		return math.MaxInt32
	}
	dLat := degrees(d)
	dLng := degrees(math.Asin(math.Sin(d) / math.Cos(latRad)))

	height, width := cellSize(prec)
	k := max(
		math.Ceil(dLat*coverSafety/height),
		math.Ceil(dLng*coverSafety/width),
		1,
	)
	return int(k)
}

// cellSize returns the height and width in degrees of geohash cells of the
// given precision.
func cellSize(prec int) (height, width float64) {
	bits := 5 * prec
	lngBits := (bits + 1) / 2
	latBits := bits / 2
	return 180 / math.Exp2(float64(latBits)), 360 / math.Exp2(float64(lngBits))
}

// cellAt returns the geohash of the cell dLat rows and dLng columns away from
// the cell box. It reports false if that cell would lie beyond a pole.
func cellAt(box Box, dLat, dLng, prec int) (string, bool) {
	c := box.Center()
	lat := c.Lat + float64(dLat)*(box.Max.Lat-box.Min.Lat)
	if lat < -90 || lat > 90 {
		return "", false
	}
	lng := c.Lng + float64(dLng)*(box.Max.Lng-box.Min.Lng)
	return Encode(Point{Lat: lat, Lng: wrapLng(lng)}, prec), true
}

// wrapLng maps a longitude into [-180, 180).
func wrapLng(lng float64) float64 {
	lng = math.Mod(lng+180, 360)
	if lng < 0 {
		lng += 360
	}
	return lng - 180
}

// geohashIndex returns the 5-bit value of a geohash character, or -1.
func geohashIndex(c byte) int {
	for i := 0; i < len(geohashAlphabet); i++ {
		if geohashAlphabet[i] == c {
			return i
		}
	}
	return -1
}
