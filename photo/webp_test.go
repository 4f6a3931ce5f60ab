package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The WebP fixtures in testdata/ were made with libwebp's cwebp and webpmux
// (Debian package "webp") by running
//
//	go test -run TestRegenerateWebPFixtures -regen-webp ./photo/
//
// x/image has no WebP encoder, so they are committed (each under 1 KB).
var regenWebP = flag.Bool("regen-webp", false, "regenerate testdata/*.webp with cwebp and webpmux")

// xmpPacket has an odd length, to exercise RIFF chunk padding.
const xmpPacket = `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="30,39.602N" exif:GPSLongitude="104,3.96E"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>.`

// translucent is quadrants() with the left half at 50% alpha.
func translucent(w, h int) *image.NRGBA {
	q := quadrants(w, h)
	img := image.NewNRGBA(q.Rect)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := q.RGBAAt(x, y)
			a := uint8(255)
			if x < w/2 {
				a = 128
			}
			img.SetNRGBA(x, y, color.NRGBA{c.R, c.G, c.B, a})
		}
	}
	return img
}

func TestRegenerateWebPFixtures(t *testing.T) {
	if !*regenWebP {
		t.Skip("run with -regen-webp to regenerate the WebP fixtures")
	}
	for _, tool := range []string{"cwebp", "webpmux"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (apt-get install webp)", tool)
		}
	}
	tmp := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(args ...string) {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	opaque := write("opaque.png", encodePNG(t, quadrants(64, 48)))
	alpha := write("alpha.png", encodePNG(t, translucent(64, 48)))
	exif := write("exif.bin", chengdu.tiff())
	xmp := write("xmp.xml", []byte(xmpPacket))
	out := func(name string) string { return filepath.Join("testdata", name) }

	run("cwebp", "-quiet", "-q", "90", "-metadata", "none", opaque, "-o", out("lossy.webp"))
	run("cwebp", "-quiet", "-lossless", "-metadata", "none", opaque, "-o", out("lossless.webp"))
	run("cwebp", "-quiet", "-q", "90", "-exact", "-metadata", "none", alpha, "-o", filepath.Join(tmp, "alpha.webp"))
	run("webpmux", "-set", "exif", exif, filepath.Join(tmp, "alpha.webp"), "-o", filepath.Join(tmp, "alpha_exif.webp"))
	run("webpmux", "-set", "xmp", xmp, filepath.Join(tmp, "alpha_exif.webp"), "-o", out("alpha_meta.webp"))
	run("webpmux", "-set", "exif", exif, out("lossless.webp"), "-o", filepath.Join(tmp, "ll_exif.webp"))
	run("webpmux", "-set", "xmp", xmp, filepath.Join(tmp, "ll_exif.webp"), "-o", out("lossless_meta.webp"))
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func webpChunks(t *testing.T, b []byte) []string {
	t.Helper()
	var ids []string
	if err := walkWebP(b, func(id string, _, _ []byte) bool { ids = append(ids, id); return true }); err != nil {
		t.Fatal(err)
	}
	return ids
}

// replaceWebPChunk returns b with the payload of chunk id replaced.
func replaceWebPChunk(t *testing.T, b []byte, id string, data []byte) []byte {
	t.Helper()
	out := []byte("RIFF\x00\x00\x00\x00WEBP")
	walkWebP(b, func(cid string, _, cdata []byte) bool {
		if cid == id {
			cdata = data
		}
		out = append(out, cid...)
		out = binary.LittleEndian.AppendUint32(out, uint32(len(cdata)))
		out = append(out, cdata...)
		if len(cdata)%2 == 1 {
			out = append(out, 0)
		}
		return true
	})
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

func TestWebPSimple(t *testing.T) {
	p := NewProcessor(Limits{ThumbMaxSide: 32}, 1)
	for name, first := range map[string]string{"lossy.webp": "VP8 ", "lossless.webp": "VP8L"} {
		b := readFixture(t, name)
		if ids := webpChunks(t, b); len(ids) != 1 || ids[0] != first {
			t.Fatalf("%s: chunks %v", name, ids)
		}
		res := mustProcess(t, p, b)
		if res.Format != "webp" || res.ContentType != "image/webp" || res.Width != 64 || res.Height != 48 {
			t.Errorf("%s: %s %s %dx%d", name, res.Format, res.ContentType, res.Width, res.Height)
		}
		if res.GPS != nil || res.TakenAt != nil || res.Orientation != 1 {
			t.Errorf("%s: unexpected metadata", name)
		}
		if !bytes.Equal(res.Clean, b) {
			t.Errorf("%s: a WebP without metadata changed", name)
		}
		th := decodeThumb(t, res)
		if th.Bounds().Dx() != 32 || th.Bounds().Dy() != 24 {
			t.Errorf("%s: thumb %v", name, th.Bounds())
		}
		checkQuadrants(t, th)

		// Bytes after the RIFF payload are dropped.
		res = mustProcess(t, p, append(bytes.Clone(b), "GPS trailer"...))
		if !bytes.Equal(res.Clean, b) {
			t.Errorf("%s: trailer kept", name)
		}
	}
}

func TestWebPStripping(t *testing.T) {
	p := NewProcessor(Limits{}, 1)
	cases := []struct {
		file       string
		wantChunks string
		wantFlags  byte
	}{
		{"alpha_meta.webp", "VP8X,ALPH,VP8 ", 0x10}, // alpha flag kept
		{"lossless_meta.webp", "VP8X,VP8L", 0x00},   // no flags left
	}
	for _, c := range cases {
		orig := readFixture(t, c.file)
		ids := strings.Join(webpChunks(t, orig), ",")
		if !strings.Contains(ids, "EXIF") || !strings.Contains(ids, "XMP ") {
			t.Fatalf("%s: fixture chunks %s", c.file, ids)
		}
		res := mustProcess(t, p, orig)
		if res.GPS == nil || res.TakenAt == nil || res.Width != 64 || res.Height != 48 {
			t.Errorf("%s: metadata not read: %+v %v %dx%d", c.file, res.GPS, res.TakenAt, res.Width, res.Height)
		}
		clean := res.Clean
		if got := strings.Join(webpChunks(t, clean), ","); got != c.wantChunks {
			t.Errorf("%s: clean chunks %s, want %s", c.file, got, c.wantChunks)
		}
		if flags := clean[20]; flags != c.wantFlags {
			t.Errorf("%s: VP8X flags %#x, want %#x", c.file, flags, c.wantFlags)
		}
		if size := binary.LittleEndian.Uint32(clean[4:]); int(size) != len(clean)-8 {
			t.Errorf("%s: RIFF size %d for %d bytes", c.file, size, len(clean))
		}
		if findExifWebP(clean) != nil {
			t.Errorf("%s: EXIF left", c.file)
		}
		for _, s := range []string{"GPS", "xmpmeta", "Apple", "2024:05:01"} {
			if bytes.Contains(clean, []byte(s)) {
				t.Errorf("%s: clean WebP contains %q", c.file, s)
			}
		}
		if decodedHash(t, orig) != decodedHash(t, clean) {
			t.Errorf("%s: decoded pixels changed", c.file)
		}
		if len(clean) >= len(orig) {
			t.Errorf("%s: nothing removed", c.file)
		}
	}

	// Translucent pixels are flattened onto white in the thumbnail.
	res := mustProcess(t, p, readFixture(t, "alpha_meta.webp"))
	th := decodeThumb(t, res)
	checkColor(t, "half-transparent red", th.At(8, 8), color.RGBA{255, 128, 128, 255})

	// With orientation 6 a minimal EXIF chunk (Orientation only) is kept.
	spec := chengdu
	spec.orientation = 6
	orig := replaceWebPChunk(t, readFixture(t, "lossless_meta.webp"), "EXIF", spec.tiff())
	res = mustProcess(t, p, orig)
	if res.Orientation != 6 || res.Width != 48 || res.Height != 64 {
		t.Errorf("rotated: orientation %d %dx%d", res.Orientation, res.Width, res.Height)
	}
	if got := strings.Join(webpChunks(t, res.Clean), ","); got != "VP8X,VP8L,EXIF" {
		t.Errorf("rotated: chunks %s", got)
	}
	if res.Clean[20] != vp8xEXIF {
		t.Errorf("rotated: flags %#x", res.Clean[20])
	}
	if !bytes.Equal(findExifWebP(res.Clean), orientationTIFF(6)) {
		t.Errorf("rotated: EXIF chunk % x", findExifWebP(res.Clean))
	}
	if decodedHash(t, orig) != decodedHash(t, res.Clean) {
		t.Errorf("rotated: decoded pixels changed")
	}
}

func TestWebPAnimatedUnsupported(t *testing.T) {
	p := NewProcessor(Limits{}, 1)
	vp8x := []byte{vp8xAnimation, 0, 0, 0, 63, 0, 0, 47, 0, 0}
	anim := []byte("RIFF\x00\x00\x00\x00WEBP")
	anim = append(anim, "VP8X\x0a\x00\x00\x00"...)
	anim = append(anim, vp8x...)
	anim = append(anim, "ANIM\x06\x00\x00\x00\xff\xff\xff\xff\x00\x00"...)
	binary.LittleEndian.PutUint32(anim[4:], uint32(len(anim)-8))
	_, err := process(t, p, anim)
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(UserMessage(err), "动态 WebP") {
		t.Errorf("animated: %v", err)
	}
}
