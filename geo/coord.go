package geo

import (
	"fmt"
	"math"
)

// EarthRadiusMeters is the mean Earth radius (IUGG R1) used by every
// distance computation in this package.
const EarthRadiusMeters = 6371008.8

// Constants of the GCJ-02 transform. They are the Krasovsky 1940 ellipsoid
// parameters used by the widely copied "coordtransform" implementations
// (npm coordtransform, Python coordTransform_py, ...).
const (
	gcjSemiMajorAxis = 6378245.0
	gcjEccentricity2 = 0.00669342162296594323
)

// Bounds of the rectangle in which GCJ-02 differs from WGS-84. This is the
// out_of_china box of the coordtransform implementations; it is a rectangle,
// not China's border, so it also includes parts of neighbouring countries.
const (
	chinaMinLng = 72.004
	chinaMaxLng = 137.8347
	chinaMinLat = 0.8293
	chinaMaxLat = 55.8271
)

// Parameters of the iterative GCJ-02 inverse.
const (
	inverseTolerance     = 1e-9 // degrees, about 0.1 mm
	inverseMaxIterations = 10
)

// Point is a geographic position in decimal degrees.
type Point struct {
	Lat float64
	Lng float64
}

// String formats p as "lat,lng" with 7 decimals (about 1 cm), for logs and
// error messages.
func (p Point) String() string {
	return fmt.Sprintf("%.7f,%.7f", p.Lat, p.Lng)
}

// Valid reports whether p holds finite coordinates inside the valid ranges
// (latitude -90..90, longitude -180..180).
func (p Point) Valid() bool {
	return p.Lat >= -90 && p.Lat <= 90 && p.Lng >= -180 && p.Lng <= 180
}

// InChina reports whether p lies in the rectangle in which the GCJ-02
// transform applies (longitude 72.004..137.8347, latitude 0.8293..55.8271,
// bounds inclusive). Outside it GCJ-02 coordinates equal WGS-84 coordinates.
func InChina(p Point) bool {
	return p.Lng >= chinaMinLng && p.Lng <= chinaMaxLng &&
		p.Lat >= chinaMinLat && p.Lat <= chinaMaxLat
}

// WGS84ToGCJ02 converts a WGS-84 position to GCJ-02 with the standard
// Krasovsky formula, giving the same result as the npm coordtransform package.
// Positions outside InChina are returned unchanged.
func WGS84ToGCJ02(p Point) Point {
	if !InChina(p) {
		return p
	}
	dLat, dLng := gcjOffset(p)
	return Point{Lat: p.Lat + dLat, Lng: p.Lng + dLng}
}

// GCJ02ToWGS84 converts a GCJ-02 position back to WGS-84.
//
// GCJ-02 has no closed-form inverse. The common one-step approximation
// (p minus the offset computed at p) is off by up to a few metres, which is
// enough to put a point near a grid border into the wrong grid. This function
// starts from that approximation and refines it with the fixed-point
// iteration x = x - (WGS84ToGCJ02(x) - p) until a step moves less than 1e-9
// degrees (about 0.1 mm) or 10 iterations have run. Across China the result
// maps back onto p to well under a millimetre.
//
// Positions outside InChina are returned unchanged.
func GCJ02ToWGS84(p Point) Point {
	if !InChina(p) {
		return p
	}
	x := gcj02ToWGS84OneStep(p)
	for range inverseMaxIterations {
		g := WGS84ToGCJ02(x)
		dLat, dLng := g.Lat-p.Lat, g.Lng-p.Lng
		x.Lat -= dLat
		x.Lng -= dLng
		if math.Abs(dLat) < inverseTolerance && math.Abs(dLng) < inverseTolerance {
			break
		}
	}
	return x
}

// gcj02ToWGS84OneStep is the classic approximate inverse: it subtracts the
// offset computed at the GCJ-02 position itself. It is the starting point of
// GCJ02ToWGS84 and is kept separate so tests can show why iterating matters.
func gcj02ToWGS84OneStep(p Point) Point {
	if !InChina(p) {
		return p
	}
	dLat, dLng := gcjOffset(p)
	return Point{Lat: p.Lat - dLat, Lng: p.Lng - dLng}
}

// gcjOffset returns the GCJ-02 shift, in degrees, that WGS84ToGCJ02 adds to
// the WGS-84 position p.
func gcjOffset(p Point) (dLat, dLng float64) {
	x, y := p.Lng-105.0, p.Lat-35.0
	dLat = gcjTransformLat(x, y)
	dLng = gcjTransformLng(x, y)

	radLat := p.Lat / 180.0 * math.Pi
	magic := math.Sin(radLat)
	magic = 1 - gcjEccentricity2*magic*magic
	sqrtMagic := math.Sqrt(magic)

	dLat = (dLat * 180.0) / ((gcjSemiMajorAxis * (1 - gcjEccentricity2)) / (magic * sqrtMagic) * math.Pi)
	dLng = (dLng * 180.0) / (gcjSemiMajorAxis / sqrtMagic * math.Cos(radLat) * math.Pi)
	return dLat, dLng
}

func gcjTransformLat(x, y float64) float64 {
	ret := -100.0 + 2.0*x + 3.0*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	ret += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	ret += (20.0*math.Sin(y*math.Pi) + 40.0*math.Sin(y/3.0*math.Pi)) * 2.0 / 3.0
	ret += (160.0*math.Sin(y/12.0*math.Pi) + 320*math.Sin(y*math.Pi/30.0)) * 2.0 / 3.0
	return ret
}

func gcjTransformLng(x, y float64) float64 {
	ret := 300.0 + x + 2.0*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	ret += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	ret += (20.0*math.Sin(x*math.Pi) + 40.0*math.Sin(x/3.0*math.Pi)) * 2.0 / 3.0
	ret += (150.0*math.Sin(x/12.0*math.Pi) + 300.0*math.Sin(x/30.0*math.Pi)) * 2.0 / 3.0
	return ret
}

// DistanceMeters returns the great-circle distance between a and b in metres
// (haversine formula on a sphere of radius EarthRadiusMeters).
func DistanceMeters(a, b Point) float64 {
	lat1, lat2 := radians(a.Lat), radians(b.Lat)
	dLat := lat2 - lat1
	dLng := radians(b.Lng - a.Lng)

	h := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(lat1)*math.Cos(lat2)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * EarthRadiusMeters * math.Asin(math.Sqrt(math.Min(1, h)))
}

// metersPerDegree is the length of one degree of latitude (and of longitude
// at the equator) on the sphere used by DistanceMeters.
const metersPerDegree = EarthRadiusMeters * math.Pi / 180

func radians(deg float64) float64 { return deg * math.Pi / 180 }

func degrees(rad float64) float64 { return rad * 180 / math.Pi }
