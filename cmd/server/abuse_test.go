package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/citizen-city/chengguantong/internal/apitest"
)

// The attacks of issue #21, against the real wiring: each test here failed
// before the change it covers.

// slowUpload is an upload sent by hand over its own connection: its headers
// and the start of its body, then a byte now and then.
type slowUpload struct {
	conn    net.Conn
	answers chan slowAnswer
}

type slowAnswer struct {
	status     int
	retryAfter string
	body       string
}

// startSlowUpload opens the connection, sends the headers (announcing a
// 300 KB body) and the start of the form, and reads the answer whenever it
// comes.
func startSlowUpload(t *testing.T, host, token string) *slowUpload {
	t.Helper()
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	head := "POST /api/v1/photos HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + token +
		"\r\nContent-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: 300000\r\n\r\n" +
		"--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff"
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	u := &slowUpload{conn: conn, answers: make(chan slowAnswer, 1)}
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			u.answers <- slowAnswer{status: -1, body: err.Error()}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		u.answers <- slowAnswer{resp.StatusCode, resp.Header.Get("Retry-After"), string(b)}
	}()
	return u
}

// trickle sends a byte on each connection every half second until stop is
// closed (the attacker of issue #21 sent one every 2 s).
func trickle(uploads []*slowUpload, stop <-chan struct{}) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			for _, u := range uploads {
				_, _ = u.conn.Write([]byte{0})
			}
		}
	}
}

// uploadWithin uploads a small photo as token, giving up at the deadline.
func uploadWithin(t *testing.T, s *testServer, token string, d time.Duration) (int, string, error) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "IMG_0002.jpg")
	fw.Write(apitest.JPEGWithGPS(t, 320, 240, wgsLat, wgsLng, takenAt))
	mw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", s.Base+"/api/v1/photos", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// TestSlowUploadsHoldOnlyTheirSender is issue #21's first attack: one
// resident opens as many trickling uploads as the server had upload slots
// (four per core). Two are admitted, the rest refused at once with 429 and
// Retry-After; another resident's upload succeeds while the two are held
// (before, it waited for a slot until the slow ones hit the 60 s read
// timeout). Nothing here measures time: the slow uploads cannot be cut off
// before 35 s (their pace), and the other upload gives up after 10 s.
func TestSlowUploadsHoldOnlyTheirSender(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env["UPLOADS_PER_MINUTE"] = "1000" // the per-minute limit is not what protects here
	env["UPLOAD_TIME_PER_MIB"] = "30s" // a trickle is cut off 35 s after it starts
	s := startServer(t, env, options{})
	slowTok, _ := s.Login(t, "slow-uploader")
	fastTok, _ := s.Login(t, "fast-uploader")
	host := strings.TrimPrefix(s.Base, "http://")

	n := 4 * runtime.NumCPU()
	var slow []*slowUpload
	for range n {
		slow = append(slow, startSlowUpload(t, host, slowTok))
	}
	stop := make(chan struct{})
	defer close(stop)
	go trickle(slow, stop)

	// All but two are refused at once: one resident has at most two
	// uploads in flight.
	answered := func() (n int) {
		for _, u := range slow {
			n += len(u.answers)
		}
		return n
	}
	for deadline := time.Now().Add(patience); answered() < n-2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d slow uploads answered, want %d refused", answered(), n, n-2)
		}
	}
	var held []*slowUpload
	for _, u := range slow {
		if len(u.answers) == 0 {
			held = append(held, u)
			continue
		}
		a := <-u.answers
		if a.status != 429 || a.retryAfter == "" || !strings.Contains(a.body, `"rate_limited"`) || !strings.Contains(a.body, "2 张照片正在上传") {
			t.Fatalf("a slow upload past the second: %d, Retry-After %q, %s", a.status, a.retryAfter, a.body)
		}
	}
	if len(held) != 2 {
		t.Fatalf("%d uploads held, want 2", len(held))
	}

	// Another resident's upload goes through while those two are held.
	status, body, err := uploadWithin(t, s, fastTok, 10*time.Second)
	if err != nil || status != 201 {
		t.Fatalf("another resident's upload beside the slow ones: %d %s %v", status, body, err)
	}
	for _, u := range held {
		select {
		case a := <-u.answers:
			t.Fatalf("a held upload was answered before its pace ran out: %d %s", a.status, a.body)
		default:
		}
	}

	// Once the slow resident gives up, their slots are theirs again.
	for _, u := range held {
		u.conn.Close()
	}
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		status, body, err := uploadWithin(t, s, slowTok, 10*time.Second)
		if err == nil && status == 201 {
			break
		}
		if time.Since(start) > patience {
			t.Fatalf("the slow resident's upload after closing the slow ones: %d %s %v", status, body, err)
		}
	}
}

// TestTricklingUploadIsCutOff: an upload whose body falls behind its pace
// (UPLOAD_TIME_PER_MIB, after 5 s of grace) is answered 400 naming the
// field and the rule, and frees its slot; before, it held a slot until the
// server's 60 s read timeout.
func TestTricklingUploadIsCutOff(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env["UPLOAD_TIME_PER_MIB"] = "1s" // cut off 6 s after it starts
	s := startServer(t, env, options{})
	tok, _ := s.Login(t, "trickler")
	u := startSlowUpload(t, strings.TrimPrefix(s.Base, "http://"), tok)
	stop := make(chan struct{})
	defer close(stop)
	go trickle([]*slowUpload{u}, stop)
	select {
	case a := <-u.answers:
		if a.status != 400 || !strings.Contains(a.body, `"field":"file"`) || !strings.Contains(a.body, "上传过慢") || !strings.Contains(a.body, "照片每 1 MB 须在 1 秒内传完") {
			t.Fatalf("a trickling upload: %d %s", a.status, a.body)
		}
	case <-time.After(50 * time.Second): // well before the 60 s read timeout
		t.Fatal("a trickling upload was not cut off by its pace")
	}
	if status, body, err := uploadWithin(t, s, tok, patience); err != nil || status != 201 {
		t.Fatalf("the next upload: %d %s %v", status, body, err)
	}
}

// TestForwardedForNeedsATrustedProxy is issue #21's fifth finding: a client
// on the same host or an intranet named any address in X-Forwarded-For and
// walked around the per-address login limit. By default the peer is the
// client; with TRUSTED_PROXIES the proxy's X-Forwarded-For is believed, for
// the limits and the log alike.
func TestForwardedForNeedsATrustedProxy(t *testing.T) {
	t.Parallel()
	login := func(s *testServer, code, forwarded string) int {
		return s.Do(t, "POST", "/api/v1/auth/wechat", "", map[string]string{"code": code}, "X-Forwarded-For", forwarded).Status
	}
	env := testEnv(t)
	env["LOGIN_RATE_PER_IP"] = "3"
	s := startServer(t, env, options{})
	var got []int
	for i := range 4 {
		got = append(got, login(s, fmt.Sprintf("xff-%d", i), fmt.Sprintf("203.0.113.%d", i+1)))
	}
	if fmt.Sprint(got) != "[200 200 200 429]" {
		t.Errorf("four logins from one peer, each naming another address: %v; want the fourth limited", got)
	}
	if logs := s.logs.String(); strings.Contains(logs, "203.0.113.") || !strings.Contains(logs, `"ip":"127.0.0.1"`) {
		t.Errorf("the log believed X-Forwarded-For from an untrusted peer")
	}

	env = testEnv(t)
	env["LOGIN_RATE_PER_IP"] = "3"
	env["TRUSTED_PROXIES"] = "127.0.0.1/32, ::1"
	s = startServer(t, env, options{})
	got = nil
	for i := range 4 {
		got = append(got, login(s, fmt.Sprintf("xff-%d", i), fmt.Sprintf("198.51.100.7, 203.0.113.%d", i+1)))
	}
	for i := range 4 {
		got = append(got, login(s, fmt.Sprintf("xff-same-%d", i), "203.0.113.99"))
	}
	if fmt.Sprint(got) != "[200 200 200 200 200 200 200 429]" {
		t.Errorf("behind a trusted proxy: %v; want four addresses allowed, the fourth login of one address limited", got)
	}
	if logs := s.logs.String(); !strings.Contains(logs, `"ip":"203.0.113.99"`) || strings.Contains(logs, "198.51.100.7") {
		t.Errorf("the log does not name the nearest untrusted address of X-Forwarded-For")
	}
}

// TestMetricsAreNotPublic is issue #21's fourth finding: /metrics was open
// to anyone on the main port. Now it is served on METRICS_ADDR (loopback by
// default), and on the main port only to the METRICS_TOKEN bearer; anyone
// else gets the 404 of a route that does not exist.
func TestMetricsAreNotPublic(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env["METRICS_TOKEN"] = "metrics-token-0123456789"
	var metricsAddr string
	s := startServer(t, env, options{onMetricsReady: func(a string) { metricsAddr = a }})
	resident, _ := s.Login(t, "metrics-resident")
	const want = `http_requests_total{method="POST",route="/api/v1/auth/wechat",status="200"} 1`
	for _, tok := range []string{"", resident, "metrics-token-wrong-0000"} {
		r := s.Do(t, "GET", "/metrics", tok, nil)
		if r.Status != 404 || r.ErrorCode() != "not_found" || strings.Contains(string(r.Body), "go_goroutines") {
			t.Errorf("GET /metrics with %q: %d %.200s", tok, r.Status, r.Body)
		}
	}
	if r := s.Do(t, "GET", "/metrics", env["METRICS_TOKEN"], nil); r.Status != 200 || !strings.Contains(string(r.Body), want) {
		t.Errorf("GET /metrics with the token: %d %.300s", r.Status, r.Body)
	}
	if host, _, _ := net.SplitHostPort(metricsAddr); host != "127.0.0.1" {
		t.Fatalf("the metrics listener is on %q", metricsAddr)
	}
	m := apitest.New("http://" + metricsAddr)
	if r := m.Do(t, "GET", "/metrics", "", nil); r.Status != 200 || !strings.Contains(string(r.Body), want) {
		t.Errorf("the metrics listener: %d %.300s", r.Status, r.Body)
	}
	if r := m.Do(t, "GET", "/api/v1/categories", "", nil); r.Status != 404 {
		t.Errorf("the metrics listener serves the API: %d", r.Status)
	}
}

// TestCorruptSecretStopsTheServer is issue #21's third finding: an empty
// token-secret under DATA_DIR was replaced without a word (every session
// ended). Now the server does not start, and says which file and what to do.
func TestCorruptSecretStopsTheServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "token-secret")
	if err := os.WriteFile(path, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*patience)
	defer cancel()
	opt := options{onReady: func(string) { cancel() }}
	err := run(ctx, testGetenv(map[string]string{"HTTP_ADDR": "127.0.0.1:0", "DATA_DIR": dir}), io.Discard, opt)
	if err == nil {
		t.Fatal("the server started with an empty token-secret")
	}
	for _, want := range []string{path, "是空的", "请删除它"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "\n" {
		t.Errorf("token-secret was rewritten: %q", b)
	}
}

// TestTicketExportFormulasAreInert is issue #21's sixth finding: a
// description =HYPERLINK(...) went to the staff's export as it was. Now a
// text that starts like a formula is written with a leading '.
func TestTicketExportFormulasAreInert(t *testing.T) {
	t.Parallel()
	s := startServer(t, testEnv(t), options{})
	staff := s.LoginStaff(t, adminUser, adminPass)
	description, address := `=HYPERLINK("http://x.example/steal","点这里查看进度")`, "@SUM(1,1) 幸福路8号"
	r := s.Do(t, "POST", "/api/v1/admin/tickets", staff, map[string]any{"category": "1102", "description": description,
		"location": map[string]any{"lat": wgsLat, "lng": wgsLng, "coord_type": "wgs84"}, "address": address, "source": "hotline"})
	if r.Status != 201 {
		t.Fatalf("hotline: %d %s", r.Status, r.Body)
	}
	r = s.Do(t, "GET", "/api/v1/admin/tickets/export.xlsx", staff, nil)
	book, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("export: %d %v", r.Status, err)
	}
	rows, err := book.GetRows("工单", excelize.Options{RawCellValue: true})
	if err != nil || len(rows) != 3 {
		t.Fatalf("export rows: %q %v", rows, err)
	}
	col := map[string]int{}
	for i, h := range rows[1] {
		col[h] = i
	}
	if d, a := rows[2][col["问题描述"]], rows[2][col["地址"]]; d != "'"+description || a != "'"+address {
		t.Errorf("description %q, address %q; want them with a leading '", d, a)
	}
	for _, i := range []int{col["问题描述"], col["地址"]} {
		cell, _ := excelize.CoordinatesToCellName(i+1, 3)
		if f, _ := book.GetCellFormula("工单", cell); f != "" {
			t.Errorf("%s holds a formula %q", cell, f)
		}
	}
}
