package photo

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
)

func shanghai(t *testing.T) *time.Location {
	t.Helper()
	return NewProcessor(Limits{}, 1).loc
}

func TestParseExifBothByteOrders(t *testing.T) {
	for _, big := range []bool{false, true} {
		spec := chengdu
		spec.bigEndian = big
		spec.orientation = 6
		info, err := parseExif(spec.tiff())
		if err != nil {
			t.Fatalf("bigEndian=%v: %v", big, err)
		}
		if info.Orientation != 6 {
			t.Errorf("bigEndian=%v: orientation %d, want 6", big, info.Orientation)
		}
		if info.DateTimeOriginal != "2024:05:01 09:30:15" || info.DateTime != "2024:05:01 10:00:00" {
			t.Errorf("bigEndian=%v: dates %q %q", big, info.DateTimeOriginal, info.DateTime)
		}
		if info.GPS == nil || math.Abs(info.GPS.Lat-chengduLat) > 1e-9 || math.Abs(info.GPS.Lng-chengduLng) > 1e-9 {
			t.Errorf("bigEndian=%v: GPS %+v, want %v,%v", big, info.GPS, chengduLat, chengduLng)
		}
		// With the JPEG APP1 prefix too.
		info2, err := parseExif(append([]byte(exifHeader), spec.tiff()...))
		if err != nil || info2.Orientation != 6 || info2.GPS == nil {
			t.Errorf("bigEndian=%v with Exif prefix: %+v %v", big, info2, err)
		}
	}
}

func TestParseExifGPS(t *testing.T) {
	cases := []struct {
		name           string
		latRef, lngRef string
		lat, lng       [][2]uint32
		want           *GPS
	}{
		{"south-west", "S", "W", [][2]uint32{{33, 1}, {51, 1}, {54, 1}}, [][2]uint32{{151, 1}, {12, 1}, {36, 1}},
			&GPS{-(33 + 51.0/60 + 54.0/3600), -(151 + 12.0/60 + 36.0/3600)}},
		{"decimal degrees only", "N", "E", [][2]uint32{{3990, 100}}, [][2]uint32{{11640, 100}}, &GPS{39.9, 116.4}},
		{"lowercase refs", "n", "e", [][2]uint32{{10, 1}, {0, 1}, {0, 1}}, [][2]uint32{{20, 1}, {0, 1}, {0, 1}}, &GPS{10, 20}},
		{"missing refs read as N/E", "", "", [][2]uint32{{10, 1}}, [][2]uint32{{20, 1}}, &GPS{10, 20}},
		{"zero zero is absent", "N", "E", [][2]uint32{{0, 1}, {0, 1}, {0, 1}}, [][2]uint32{{0, 1}, {0, 1}, {0, 1}}, nil},
		{"zero denominator", "N", "E", [][2]uint32{{30, 0}, {0, 1}, {0, 1}}, [][2]uint32{{104, 1}, {0, 1}, {0, 1}}, nil},
		{"zero over zero", "N", "E", [][2]uint32{{0, 0}, {0, 0}, {0, 0}}, [][2]uint32{{0, 0}, {0, 0}, {0, 0}}, nil},
		{"latitude out of range", "N", "E", [][2]uint32{{91, 1}}, [][2]uint32{{104, 1}}, nil},
		{"longitude out of range", "N", "E", [][2]uint32{{30, 1}}, [][2]uint32{{181, 1}}, nil},
		{"bad ref", "X", "E", [][2]uint32{{30, 1}}, [][2]uint32{{104, 1}}, nil},
		{"missing latitude", "N", "E", nil, [][2]uint32{{104, 1}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := tiffWriter{binary.BigEndian}
			var gps []tiffEntry
			if c.latRef != "" {
				gps = append(gps, w.ascii(tagGPSLatitudeRef, c.latRef))
			}
			if c.lngRef != "" {
				gps = append(gps, w.ascii(tagGPSLongitudeRef, c.lngRef))
			}
			if c.lat != nil {
				gps = append(gps, w.rationals(tagGPSLatitude, c.lat...))
			}
			if c.lng != nil {
				gps = append(gps, w.rationals(tagGPSLongitude, c.lng...))
			}
			info, err := parseExif(w.build([]tiffEntry{w.short(tagOrientation, 1)}, nil, gps))
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.want == nil && info.GPS != nil:
				t.Errorf("GPS = %+v, want nil", *info.GPS)
			case c.want != nil && info.GPS == nil:
				t.Errorf("GPS = nil, want %+v", *c.want)
			case c.want != nil && (math.Abs(info.GPS.Lat-c.want.Lat) > 1e-9 || math.Abs(info.GPS.Lng-c.want.Lng) > 1e-9):
				t.Errorf("GPS = %+v, want %+v", *info.GPS, *c.want)
			}
		})
	}
}

func TestTakenAt(t *testing.T) {
	loc := shanghai(t)
	cases := []struct {
		name string
		info exifInfo
		want string // RFC 3339, "" for nil
	}{
		{"original in Shanghai", exifInfo{DateTimeOriginal: "2024:05:01 09:30:15", DateTime: "2024:05:02 00:00:00"}, "2024-05-01T09:30:15+08:00"},
		{"original with offset", exifInfo{DateTimeOriginal: "2024:05:01 09:30:15", OffsetTimeOriginal: "-05:00"}, "2024-05-01T09:30:15-05:00"},
		{"fallback to DateTime", exifInfo{DateTime: "2023:12:31 23:59:59"}, "2023-12-31T23:59:59+08:00"},
		{"DateTime with OffsetTime", exifInfo{DateTime: "2023:12:31 23:59:59", OffsetTime: "+09:00"}, "2023-12-31T23:59:59+09:00"},
		{"offset of original not applied to DateTime", exifInfo{DateTime: "2023:12:31 23:59:59", OffsetTimeOriginal: "+09:00"}, "2023-12-31T23:59:59+08:00"},
		{"dash separators", exifInfo{DateTimeOriginal: "2024-05-01 09:30:15"}, "2024-05-01T09:30:15+08:00"},
		{"bad offset ignored", exifInfo{DateTimeOriginal: "2024:05:01 09:30:15", OffsetTimeOriginal: "   :  "}, "2024-05-01T09:30:15+08:00"},
		{"zero date", exifInfo{DateTimeOriginal: "0000:00:00 00:00:00"}, ""},
		{"blank", exifInfo{DateTimeOriginal: "                   "}, ""},
		{"garbage original falls back", exifInfo{DateTimeOriginal: "yesterday", DateTime: "2020:01:01 00:00:00"}, "2020-01-01T00:00:00+08:00"},
		{"absent", exifInfo{}, ""},
	}
	for _, c := range cases {
		got := c.info.takenAt(loc)
		switch {
		case c.want == "" && got != nil:
			t.Errorf("%s: got %v, want nil", c.name, got)
		case c.want != "" && got == nil:
			t.Errorf("%s: got nil, want %s", c.name, c.want)
		case c.want != "" && got.Format(time.RFC3339) != c.want:
			t.Errorf("%s: got %s, want %s", c.name, got.Format(time.RFC3339), c.want)
		}
	}
	// The Shanghai interpretation is an absolute instant: 09:30 in China is
	// 01:30 UTC.
	got := exifInfo{DateTimeOriginal: "2024:05:01 09:30:15"}.takenAtValue(loc)
	if want := time.Date(2024, 5, 1, 1, 30, 15, 0, time.UTC); !got.Equal(want) {
		t.Errorf("instant %v, want %v", got.UTC(), want)
	}
}

func (info exifInfo) takenAtValue(loc *time.Location) time.Time { return *info.takenAt(loc) }

func TestParseExifMalformed(t *testing.T) {
	w := tiffWriter{binary.LittleEndian}
	good := chengdu.tiff()

	// Exif IFD pointer pointing back at IFD0 and GPS pointer out of range:
	// no loop, no panic, orientation still read.
	loop := w.build([]tiffEntry{w.short(tagOrientation, 3), w.long(tagExifIFD, 8), w.long(tagGPSIFD, 1<<30)}, nil, nil)
	info, _ := parseExif(loop)
	if info.Orientation != 3 || info.GPS != nil {
		t.Errorf("loop: %+v", info)
	}

	cases := map[string][]byte{
		"empty":            nil,
		"short":            []byte("II*"),
		"bad magic":        []byte("XX*\x00\x08\x00\x00\x00"),
		"bad 42":           []byte("II\x2b\x00\x08\x00\x00\x00"),
		"IFD out of range": []byte("II*\x00\xff\xff\xff\xff"),
		"huge entry count": append([]byte("II*\x00\x08\x00\x00\x00"), 0xff, 0xff, 1, 2),
		"truncated":        good[:len(good)/2],
	}
	for name, b := range cases {
		info, _ := parseExif(b)
		if info.GPS != nil {
			t.Errorf("%s: unexpected GPS", name)
		}
	}

	// Orientation out of range is ignored.
	info, _ = parseExif(w.build([]tiffEntry{w.short(tagOrientation, 9)}, nil, nil))
	if info.Orientation != 0 {
		t.Errorf("orientation 9 read as %d", info.Orientation)
	}
	// Orientation stored as LONG is accepted.
	info, _ = parseExif(w.build([]tiffEntry{w.long(tagOrientation, 8)}, nil, nil))
	if info.Orientation != 8 {
		t.Errorf("LONG orientation read as %d", info.Orientation)
	}
	// A value whose offset points outside the buffer is skipped.
	bad := w.build([]tiffEntry{w.ascii(tagDateTime, "2024:05:01 09:30:15")}, nil, nil)
	binary.LittleEndian.PutUint32(bad[8+2+8:], 1<<31)
	info, _ = parseExif(bad)
	if info.DateTime != "" {
		t.Errorf("out-of-range DateTime read as %q", info.DateTime)
	}
}

func TestOrientationTIFF(t *testing.T) {
	for o := 1; o <= 8; o++ {
		b := orientationTIFF(o)
		if len(b) != 26 {
			t.Fatalf("len %d", len(b))
		}
		info, err := parseExif(b)
		if err != nil || info.Orientation != o || info.GPS != nil || info.DateTime != "" {
			t.Errorf("orientation %d: %+v %v", o, info, err)
		}
	}
}

// FuzzParseExif checks that no input makes the TIFF parser panic, loop or
// return out-of-range values.
func FuzzParseExif(f *testing.F) {
	for _, big := range []bool{false, true} {
		s := chengdu
		s.bigEndian = big
		s.orientation = 6
		s.offsetTimeOriginal = "+08:00"
		f.Add(s.tiff())
		f.Add(append([]byte(exifHeader), s.tiff()...))
	}
	f.Add(orientationTIFF(6))
	f.Add([]byte("II*\x00\x08\x00\x00\x00"))
	f.Add([]byte("MM\x00*\x00\x00\x00\x08\xff\xff"))
	loc := time.FixedZone("CST", 8*3600)
	f.Fuzz(func(t *testing.T, b []byte) {
		info, _ := parseExif(b)
		if info.Orientation < 0 || info.Orientation > 8 {
			t.Fatalf("orientation %d", info.Orientation)
		}
		if g := info.GPS; g != nil {
			if math.IsNaN(g.Lat) || math.IsNaN(g.Lng) || math.Abs(g.Lat) > 90 || math.Abs(g.Lng) > 180 || (g.Lat == 0 && g.Lng == 0) {
				t.Fatalf("bad GPS %+v", *g)
			}
		}
		_ = info.takenAt(loc)
	})
}
