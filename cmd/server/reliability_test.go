package main

import (
	"strings"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/internal/testenv"
	"github.com/citizen-city/chengguantong/wechat/wechatsim"
)

// A resident who logged in before a restart of the embedded server reports
// after it and is dispatched (the simulator derives and checks openids, so
// it needs no memory of the login); and with the simulator's verdict set to
// risky, the embedded default's own push rejects the ticket.
func TestEmbeddedRestartKeepsLoginsAndPushWorks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"HTTP_ADDR": "127.0.0.1:0", "DATA_DIR": dir, "WECHAT_APPID": testenv.Name("wxemb"),
		"ADMIN_USERNAME": adminUser, "ADMIN_PASSWORD": adminPass}
	s := startServer(t, env, options{})
	newCity(t, s, map[string]string{"周网格": gridA}, nil)
	tok, _ := s.Login(t, "resident-before-restart")
	photo := uploadPhoto(t, s, tok)["id"].(string)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	env["WECHAT_SIMULATOR_MEDIA_VERDICT"] = "risky"
	s2 := startServer(t, env, options{})
	r := s2.Do(t, "POST", "/api/v1/reports", tok, reportBody("1102", photo))
	if r.Status != 201 {
		t.Fatalf("report with a token from before the restart: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["id"].(string)
	// Registered and dispatched, then withdrawn by the pushed risky verdict.
	rep := waitStatus(t, s2, tok, id, "rejected")
	if got := timelineTypes(rep); !strings.Contains(got, "dispatched") || !strings.Contains(rep.Reject, "照片") {
		t.Fatalf("timeline %s, reason %q; want dispatched, then rejected for the photo", got, rep.Reject)
	}
	if strings.Contains(s2.logs.String(), "invalid openid") {
		t.Fatal("the simulator refused an openid it had issued before the restart")
	}
}

// Two instances, each with its own simulator: a resident who logged in on
// one reports on the other and is dispatched at once, as with one WeChat.
func TestLoginOnOneInstanceReportOnAnother(t *testing.T) {
	t.Parallel()
	env := productionEnv(t)
	a := startServer(t, env, options{})
	c := newCity(t, a, map[string]string{"吴网格": gridA}, nil)
	tok, _ := a.Login(t, "resident-of-a")
	photo := uploadPhoto(t, a, tok)["id"].(string)
	// B's simulator now answers every WeChat call of this appid in this
	// process: it never saw the login above.
	b := startServer(t, env, options{})
	r := b.Do(t, "POST", "/api/v1/reports", tok, reportBody("1102", photo))
	if r.Status != 201 {
		t.Fatalf("report on B: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["id"].(string)
	waitTask(t, b, c.workers["吴网格"].token, "/api/v1/tasks", id)
}

// With msgSecCheck failing for good, a report is held for staff after its
// last attempt, with a held event naming the errcode; staff release it by
// dispatching it; when WeChat comes back nothing is done twice.
func TestScreeningFailingForGoodIsHeldForStaff(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env["SCREENING_MAX_ATTEMPTS"] = "2"
	env["QUEUE_RETRY_AFTER"] = "1s"
	sim := wechatsim.New(wechatsim.Options{AppID: env["WECHAT_APPID"], Secret: "simulator-secret",
		Faults: map[string]wechatsim.Fault{wechatsim.APIMsgSecCheck: {ErrCode: 61010}}})
	t.Cleanup(sim.Install())
	t.Cleanup(sim.Close)
	s := startServer(t, env, options{simulator: sim})
	c := newCity(t, s, map[string]string{"郑网格": gridA}, nil)
	tok, id := c.report(t, "resident-held", "1102", nil)

	deadline := time.Now().Add(patience)
	var rep report
	for !strings.Contains(timelineTypes(rep), "held") {
		if time.Now().After(deadline) {
			t.Fatalf("never held: %+v", rep)
		}
		time.Sleep(100 * time.Millisecond)
		rep = waitStatus(t, s, tok, id, "submitted")
	}
	if note := rep.Timeline[len(rep.Timeline)-1].Note; !strings.Contains(note, "61010") || !strings.Contains(note, "人工审核") {
		t.Fatalf("held note %q does not name the errcode", note)
	}
	var list struct {
		Items []struct {
			ID   string `json:"id"`
			Held bool   `json:"held"`
		} `json:"items"`
	}
	s.Do(t, "GET", "/api/v1/admin/tickets?status=submitted", c.staff, nil).Decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != id || !list.Items[0].Held {
		t.Fatalf("staff's list of submitted tickets: %+v", list)
	}

	// The staff read why it is held, and release it from the picker by
	// its case number: registered and dispatched in one step.
	var held deskList
	s.Do(t, "GET", "/api/v1/admin/tickets?held=true", c.staff, nil).Decode(t, &held)
	if len(held.Items) != 1 || held.Items[0].ID != id || !strings.Contains(held.Items[0].HeldReason, "61010") {
		t.Fatalf("held=true: %+v", held)
	}
	caseNo := held.Items[0].CaseNo
	sim.SetFaults(nil) // WeChat is back
	w := c.workers["郑网格"]
	if r := s.Do(t, "POST", "/api/v1/admin/tickets/"+caseNo+"/dispatch", c.staff, map[string]string{"assignee_id": w.id}); r.Status != 200 {
		t.Fatalf("staff dispatch: %d %s", r.Status, r.Body)
	}
	waitTask(t, s, w.token, "/api/v1/tasks", id)
	time.Sleep(3 * time.Second) // a retry or reclaim would act by now
	rep = waitStatus(t, s, tok, id, "dispatched")
	if got := timelineTypes(rep); got != "reported,held,registered,dispatched" {
		t.Fatalf("timeline %s; want reported,held,registered,dispatched", got)
	}
	if r := s.Do(t, "GET", "/api/v1/admin/tickets?held=true", c.staff, nil); r.JSON(t)["total"].(float64) != 0 {
		t.Fatalf("still held: %s", r.Body)
	}
}

// A held report is rejected by staff (驳回) with a reason the resident
// reads.
func TestHeldReportRejected(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env["SCREENING_MAX_ATTEMPTS"] = "1"
	sim := wechatsim.New(wechatsim.Options{AppID: env["WECHAT_APPID"], Secret: "simulator-secret",
		Faults: map[string]wechatsim.Fault{wechatsim.APIMsgSecCheck: {ErrCode: 61010}}})
	t.Cleanup(sim.Install())
	t.Cleanup(sim.Close)
	s := startServer(t, env, options{simulator: sim})
	c := newCity(t, s, map[string]string{"冯网格": gridA}, nil)
	tok, id := c.report(t, "resident-held-2", "1102", nil)
	deadline := time.Now().Add(patience)
	for {
		var held deskList
		s.Do(t, "GET", "/api/v1/admin/tickets?held=true", c.staff, nil).Decode(t, &held)
		if len(held.Items) == 1 && held.Items[0].ID == id && held.Items[0].HeldReason != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never held: %+v", held)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := s.Do(t, "POST", "/api/v1/admin/tickets/"+id+"/reject", c.staff, map[string]string{"reason": "图片与描述不符"}); r.Status != 200 {
		t.Fatalf("reject a held report: %d %s", r.Status, r.Body)
	}
	if rep := waitStatus(t, s, tok, id, "rejected"); rep.Reject != "图片与描述不符" {
		t.Fatalf("rejected: %+v", rep)
	}
}
