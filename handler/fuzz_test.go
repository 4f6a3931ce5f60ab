package handler

import (
	"bytes"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/ticket"
)

// checkAPIError fails unless err is what the API may answer for bad input:
// a model error of one of codes, with a Chinese message that starts with
// its field, if any.
func checkAPIError(t *testing.T, err error, codes ...model.Code) {
	t.Helper()
	var me *model.Error
	if !errors.As(err, &me) {
		t.Fatalf("not a model error: %#v", err)
	}
	ok := false
	for _, c := range codes {
		ok = ok || me.Code == c
	}
	if !ok {
		t.Fatalf("code %s, want one of %v (%s)", me.Code, codes, me.Message)
	}
	if !hasCJK(me.Message) || !utf8.ValidString(me.Message) {
		t.Fatalf("message %q is not Chinese", me.Message)
	}
	if me.Field != "" && !strings.HasPrefix(me.Message, me.Field+" ") {
		t.Fatalf("message %q does not start with its field %q", me.Message, me.Field)
	}
}

// FuzzReportBody feeds POST /api/v1/reports bodies through the handler's
// decoding and the report's validation: whatever the bytes, the answer is
// an invalid_argument naming its field in Chinese, or a report whose text
// is valid, visible and free of control characters.
func FuzzReportBody(f *testing.F) {
	f.Add([]byte(`{"category":"0101","description":"井盖破损","location":{"lat":33.96,"lng":118.27,"coord_type":"wgs84"},"address":"幸福路 1 号","photo_ids":["66aa00000000000000000001"]}`))
	f.Add([]byte(`{"category":"0101","description":"\u200b","location":{"lat":33.96,"lng":118.27,"coord_type":"gcj02"},"photo_ids":["a"]}`))
	f.Add([]byte("{\"description\":\"\xff\"}"))
	f.Add([]byte(`{"description":"\ud800","photo_ids":[1]}`))
	f.Add([]byte(`{"location":{"lat":"x"}}`))
	f.Add([]byte(`[{"a":[[[]]]}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var req submitReportRequest
		err := decodeBytes(body, &req)
		if err == nil {
			var loc model.Location
			if loc, err = req.Location.model("location"); err == nil {
				in := ticket.ReportInput{Category: req.Category, Description: req.Description, Location: loc,
					Address: req.Address, PhotoIDs: req.PhotoIDs}
				if err = in.Validate(); err == nil {
					for field, s := range map[string]string{"category": in.Category, "description": in.Description, "address": in.Address} {
						if model.CheckText(field, s) != nil || (field != "address" && !model.HasVisible(s)) {
							t.Fatalf("%s %q accepted", field, s)
						}
					}
					return
				}
			}
		}
		checkAPIError(t, err, model.CodeInvalidArgument)
	})
}

// FuzzMultipartUpload feeds POST /api/v1/photos bodies through the
// multipart reading: no panic, a Chinese error naming "file", or exactly
// the one file the form holds.
func FuzzMultipartUpload(f *testing.F) {
	form := func(parts ...[2]string) []byte {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		_ = w.SetBoundary("xYzZY")
		for _, p := range parts {
			if p[0] == "file" {
				fw, _ := w.CreateFormFile("file", "a.jpg")
				_, _ = fw.Write([]byte(p[1]))
			} else {
				_ = w.WriteField(p[0], p[1])
			}
		}
		_ = w.Close()
		return b.Bytes()
	}
	f.Add(form([2]string{"file", "\xff\xd8\xff\xe0JFIF"}))
	f.Add(form([2]string{"name", "x"}, [2]string{"file", "abc"}))
	f.Add(form([2]string{"file", "a"}, [2]string{"file", "b"}))
	f.Add(form([2]string{"other", "x"}))
	f.Add(form([2]string{"file", strings.Repeat("z", 300)}))
	f.Add([]byte("--xYzZY\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc"))
	const limit = 256
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/photos", bytes.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary=xYzZY")
		file, err := readOneFile(r, limit)
		if err != nil {
			checkAPIError(t, err, model.CodeInvalidArgument, model.CodePayloadTooLarge)
			return
		}
		if len(file) > limit {
			t.Fatalf("a file of %d bytes passed the %d limit", len(file), limit)
		}
		// Read independently: the form holds exactly one "file" part, and
		// it is what came back.
		mr := multipart.NewReader(bytes.NewReader(body), "xYzZY")
		var files [][]byte
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			if p.FormName() == "file" {
				var b bytes.Buffer
				_, _ = b.ReadFrom(p)
				files = append(files, b.Bytes())
			}
		}
		if len(files) != 1 || !bytes.Equal(files[0], file) {
			t.Fatalf("readOneFile gave %q; the form has files %q", file, files)
		}
	})
}

// FuzzJSONPath checks that naming the field at an offset never panics and
// always names a path of the document or nothing.
func FuzzJSONPath(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":"c"}]}`), int64(12))
	f.Add([]byte(`[[[`), int64(2))
	f.Fuzz(func(t *testing.T, body []byte, off int64) {
		p := jsonPathAt(body, off)
		if p != "" && !utf8.ValidString(p) && utf8.Valid(body) {
			t.Fatalf("path %q of valid UTF-8 is not UTF-8", p)
		}
	})
}
