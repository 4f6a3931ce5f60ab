package mongodb_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/store/mongodb"
)

// The photo files read back whole: those kept in the photo's document (a
// file of several GridFS chunks' size, a small one, an empty one) and
// those too large for it, written in GridFS's layout by the store itself
// and read through the driver's bucket.
func TestPhotoFilesReadBackWhole(t *testing.T) {
	ctx := context.Background()
	m := testenv.Mongo(t)
	if err := m.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	photos := mongodb.NewPhotos(m, time.Now)
	for _, n := range []int{9<<20 + 17, 3*255*1024 + 17, 255 * 1024, 1000, 0} {
		full := make([]byte, n)
		_, _ = rand.Read(full)
		thumb := []byte("thumb bytes")
		p, err := photos.Create(ctx, model.Photo{OwnerID: "u1", ContentType: "image/jpeg"},
			model.PhotoFile{Data: full, ContentType: "image/jpeg", SHA256: "f"}, model.PhotoFile{Data: thumb, ContentType: "image/jpeg", SHA256: "t"})
		if err != nil {
			t.Fatal(err)
		}
		for variant, want := range map[string][]byte{mongodb.VariantFull: full, mongodb.VariantThumb: thumb} {
			r, size, _, err := photos.Open(ctx, p.ID, variant)
			if err != nil {
				t.Fatalf("%d bytes, %s: %v", n, variant, err)
			}
			got, err := io.ReadAll(r)
			_ = r.Close()
			if err != nil || !bytes.Equal(got, want) || size != int64(len(want)) {
				t.Fatalf("%d bytes, %s: read %d bytes (size %d), err %v", n, variant, len(got), size, err)
			}
		}
	}
}
