package geo

import (
	"bytes"
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

func TestShapeRoundTrip(t *testing.T) {
	// GCJ-02-converted coordinates have full float64 precision; they must
	// survive bit for bit.
	odd := mapShape(orb.MultiPolygon{{densify(square(118.270, 33.960, 118.273, 33.963), 5)}}, GCJ02ToWGS84)

	tests := []struct {
		name  string
		shape orb.MultiPolygon
	}{
		{"one polygon", orb.MultiPolygon{{square(118.270, 33.960, 118.273, 33.963)}}},
		{"polygon with holes", orb.MultiPolygon{{
			square(118.270, 33.960, 118.273, 33.963),
			square(118.2712, 33.9612, 118.2718, 33.9618),
			square(118.2720, 33.9620, 118.2725, 33.9625),
		}}},
		{"several polygons", orb.MultiPolygon{
			{square(118.270, 33.960, 118.273, 33.963)},
			{square(-0.2, 51.4, 0.1, 51.6), square(-0.1, 51.45, 0, 51.5)},
		}},
		{"converted coordinates", odd},
		{"extreme values", orb.MultiPolygon{{orb.Ring{{-180, -90}, {180, -90}, {180, 90}, {math.SmallestNonzeroFloat64, 1e-300}, {-180, -90}}}}},
	}
	for _, tt := range tests {
		data := EncodeShape(tt.shape)
		got, err := DecodeShape(data)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !got.Equal(tt.shape) {
			t.Errorf("%s: round trip changed the shape:\n got %v\nwant %v", tt.name, got, tt.shape)
		}
		if again := EncodeShape(got); !bytes.Equal(again, data) {
			t.Errorf("%s: encoding is not stable", tt.name)
		}
	}
}

func TestShapeEncodingIsWKB(t *testing.T) {
	shape := orb.MultiPolygon{{square(118.270, 33.960, 118.273, 33.963)}}
	data := EncodeShape(shape)
	// Byte order marker 1 (little endian), geometry type 6 (MultiPolygon).
	if data[0] != 1 || data[1] != 6 || data[2] != 0 || data[3] != 0 || data[4] != 0 {
		t.Errorf("header = % x, want 01 06 00 00 00", data[:5])
	}
	// 1 + 4 + 4 (count) + polygon: 1 + 4 + 4 (rings) + 4 (points) + 5*16.
	if want := 9 + 13 + 5*16; len(data) != want {
		t.Errorf("len = %d, want %d", len(data), want)
	}
}

func TestDecodeShapeAcceptsPolygon(t *testing.T) {
	p := orb.Polygon{square(118.270, 33.960, 118.273, 33.963)}
	got, err := DecodeShape(wkb.MustMarshal(p))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(orb.MultiPolygon{p}) {
		t.Errorf("got %v", got)
	}
}

func TestDecodeShapeErrors(t *testing.T) {
	valid := EncodeShape(orb.MultiPolygon{{square(118.270, 33.960, 118.273, 33.963)}})
	tests := []struct {
		name string
		data []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"garbage", []byte("not wkb at all")},
		{"truncated", valid[:len(valid)-3]},
		{"point", wkb.MustMarshal(orb.Point{118.27, 33.96})},
		{"line string", wkb.MustMarshal(orb.LineString{{118.27, 33.96}, {118.28, 33.97}})},
	}
	for _, tt := range tests {
		if got, err := DecodeShape(tt.data); err == nil {
			t.Errorf("%s: DecodeShape = %v, want an error", tt.name, got)
		}
	}
}

func TestShapeOfParsedGridRoundTrips(t *testing.T) {
	grids, err := ParseGrids(collection(t, CoordTypeGCJ02, testGrids()...))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range grids {
		got, err := DecodeShape(EncodeShape(g.Shape))
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(g.Shape) {
			t.Errorf("grid %s changed in storage", g.Code)
		}
	}
}
