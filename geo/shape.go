package geo

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// EncodeShape encodes mp as little-endian Well-Known Binary (WKB), for
// storage as a single binary field. FerretDB refuses the nested arrays of
// GeoJSON coordinates; a byte string has no such problem, keeps float64
// coordinates bit-exact and can be read by any GIS tool (PostGIS
// ST_GeomFromWKB, shapely, GDAL).
func EncodeShape(mp orb.MultiPolygon) []byte {
	// Marshal only fails if writing to its bytes.Buffer fails, which cannot
	// happen; MustMarshal would panic in that impossible case.
	return wkb.MustMarshal(mp, binary.LittleEndian)
}

// DecodeShape decodes WKB produced by EncodeShape. A WKB Polygon is accepted
// too and returned as a one-polygon MultiPolygon; any other geometry type is
// an error.
func DecodeShape(data []byte) (orb.MultiPolygon, error) {
	if len(data) == 0 {
		return nil, errors.New("decode shape: no data")
	}
	g, err := wkb.Unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("decode shape: %w", err)
	}
	switch g := g.(type) {
	case orb.MultiPolygon:
		return g, nil
	case orb.Polygon:
		return orb.MultiPolygon{g}, nil
	case nil:
		return nil, errors.New("decode shape: no geometry")
	default:
		return nil, fmt.Errorf("decode shape: got %s, want MultiPolygon", g.GeoJSONType())
	}
}
