package main

import (
	"strings"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/wechat/wechatsim"
)

func TestSubscribeMessagesFollowTheTicket(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	sim := newSimulator(t, env["WECHAT_APPID"])
	s := startServer(t, env, options{simulator: sim})
	c := newCity(t, s, map[string]string{"孙网格": gridA}, nil)
	worker := c.workers["孙网格"]
	workerOpenID := sim.OpenIDFor("worker-" + hexOf("孙网格"))

	// What wx.requestSubscribeMessage granted, told to WeChat and to us.
	sim.Grant(workerOpenID, wechatsim.TemplateAssigned, 1)
	if r := s.Do(t, "POST", "/api/v1/me/subscriptions", worker.token, map[string]any{"accepted": []string{"tmpl_assigned"}}); r.Status != 204 {
		t.Fatalf("worker subscriptions: %d %s", r.Status, r.Body)
	}
	resTok, _ := s.Login(t, "resident-notified")
	residentOpenID := sim.OpenIDFor("resident-notified")
	sim.Grant(residentOpenID, wechatsim.TemplateAccepted, 1)
	sim.Grant(residentOpenID, wechatsim.TemplateResolved, 1)
	s.Do(t, "POST", "/api/v1/me/subscriptions", resTok, map[string]any{"accepted": []string{"tmpl_accepted", "tmpl_resolved"}})

	body := reportBody("1101", uploadPhoto(t, s, resTok)["id"].(string))
	body["description"] = "幸福路与和平街交叉口的井盖不见了，晚上非常危险，请尽快处理"
	id := s.Do(t, "POST", "/api/v1/reports", resTok, body).JSON(t)["id"].(string)
	waitTask(t, s, worker.token, "/api/v1/tasks", id)
	s.Do(t, "POST", "/api/v1/tasks/"+id+"/accept", worker.token, nil)
	after := uploadPhoto(t, s, worker.token)["id"].(string)
	s.Do(t, "POST", "/api/v1/tasks/"+id+"/resolve", worker.token, map[string]any{"note": "已安装新井盖并设置警示", "photo_ids": []string{after}})

	want := map[string]string{ // template → recipient
		wechatsim.TemplateAssigned: workerOpenID,
		wechatsim.TemplateAccepted: residentOpenID,
		wechatsim.TemplateResolved: residentOpenID,
	}
	deadline := time.Now().Add(patience)
	for {
		got := map[string]wechatsim.SentMessage{}
		for _, m := range sim.Sent() {
			if strings.Contains(m.Page, id) {
				got[m.TemplateID] = m
			}
		}
		if len(got) == len(want) {
			for tmpl, to := range want {
				m := got[tmpl]
				if m.ToUser != to {
					t.Errorf("%s went to %s, want %s", tmpl, m.ToUser, to)
				}
				if n := len([]rune(m.Data["thing1"])); n == 0 || n > 20 {
					t.Errorf("%s thing1 = %q (%d characters); WeChat allows 20", tmpl, m.Data["thing1"], n)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sent %d of the 3 messages: %+v", len(got), got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Each message used up its one-time allowance.
	for tmpl, to := range want {
		if n := sim.Allowance(to, tmpl); n != 0 {
			t.Errorf("%s: %d allowances left at WeChat; want 0", tmpl, n)
		}
	}
}

func hexOf(s string) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		out = append(out, digits[s[i]>>4], digits[s[i]&15])
	}
	return string(out)
}
