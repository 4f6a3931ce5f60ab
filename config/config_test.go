package config_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/config"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestEmbeddedDefaults(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != config.ModeEmbedded || !c.WeChatSimulator || c.HTTPAddr != ":8080" || c.DataDir != "./data" {
		t.Fatalf("defaults = %+v", c)
	}
	if c.BaseURL("[::]:8080") != "http://localhost:8080" || c.BaseURL("127.0.0.1:4321") != "http://127.0.0.1:4321" ||
		c.AdminUsername != "admin" || c.WeChatAppID != config.SimulatorAppID {
		t.Fatalf("derived defaults = %+v", c)
	}
}

// TestEdgeDefaults: metrics on loopback, no proxy trusted, the decode pool
// and the upload pace as documented.
func TestEdgeDefaults(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsAddr != "127.0.0.1:9090" || c.MetricsToken != "" || len(c.TrustedProxies) != 0 ||
		c.PhotoDecodeMemory != 256<<20 || c.UploadTimePerMiB != 10*time.Second {
		t.Fatalf("defaults: %q %q %v %d %v", c.MetricsAddr, c.MetricsToken, c.TrustedProxies, c.PhotoDecodeMemory, c.UploadTimePerMiB)
	}
	c, err = config.Load(env(map[string]string{"METRICS_ADDR": "off", "TRUSTED_PROXIES": " 10.0.0.0/8, 192.168.1.7 ,fd00::/8"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsAddr != "" || fmt.Sprint(c.TrustedProxies) != "[10.0.0.0/8 192.168.1.7/32 fd00::/8]" {
		t.Fatalf("set: %q %v", c.MetricsAddr, c.TrustedProxies)
	}
}

func TestEvaluationSettings(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.ResolutionPhotoMaxDistanceM != 300 || c.RankingWeights["on_time_rate"] != 0.4 {
		t.Fatalf("defaults: %d m, weights %v", c.ResolutionPhotoMaxDistanceM, c.RankingWeights)
	}
	c, err = config.Load(env(map[string]string{"RESOLUTION_PHOTO_MAX_DISTANCE_M": "500", "RANKING_WEIGHTS": "on_time_rate=1"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ResolutionPhotoMaxDistanceM != 500 || len(c.RankingWeights) != 1 || c.RankingWeights["on_time_rate"] != 1 {
		t.Fatalf("set: %d m, weights %v", c.ResolutionPhotoMaxDistanceM, c.RankingWeights)
	}
}

func TestProductionNeedsSecretsUnlessSimulated(t *testing.T) {
	base := map[string]string{"MONGODB_URI": "mongodb://db:27017", "REDIS_URL": "redis://cache:6379"}
	_, err := config.Load(env(base))
	if err == nil {
		t.Fatal("production without secrets loaded")
	}
	for _, name := range []string{"TOKEN_SECRET", "WECHAT_APPID", "WECHAT_SECRET", "WECHAT_PUSH_TOKEN"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
	base["TOKEN_SECRET"] = strings.Repeat("s", 32)
	base["WECHAT_SIMULATOR"] = "true"
	_, err = config.Load(env(base))
	if err == nil || !strings.Contains(err.Error(), "WECHAT_PUSH_TOKEN is required in production mode") || !strings.Contains(err.Error(), "WECHAT_PUSH=off") {
		t.Fatalf("production without a push token: %v", err)
	}
	base["WECHAT_PUSH"] = "off"
	c, err := config.Load(env(base))
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != config.ModeProduction || !c.WeChatSimulator || c.WeChatPush {
		t.Fatalf("got %+v", c)
	}
	delete(base, "WECHAT_PUSH")
	base["WECHAT_PUSH_TOKEN"] = "push-token"
	if c, err = config.Load(env(base)); err != nil || !c.WeChatPush {
		t.Fatalf("with a push token: %+v %v", c, err)
	}
}

func TestSimulatorFaultsAndRetries(t *testing.T) {
	c, err := config.Load(env(map[string]string{"WECHAT_SIMULATOR_FAULTS": "msg_sec_check=40003,send=timeout",
		"WECHAT_SIMULATOR_MEDIA_VERDICT": "risky", "SCREENING_MAX_ATTEMPTS": "3", "QUEUE_RETRY_AFTER": "2s"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.WeChatSimulatorFaults["msg_sec_check"].ErrCode != 40003 || !c.WeChatSimulatorFaults["send"].Timeout ||
		c.WeChatSimulatorMediaVerdict != "risky" || c.ScreeningMaxAttempts != 3 || c.QueueRetryAfter.Seconds() != 2 || !c.WeChatPush {
		t.Fatalf("got %+v", c)
	}
	if d, _ := config.Load(env(nil)); d.ScreeningMaxAttempts != 8 || d.QueueRetryAfter.Seconds() != 30 || d.WeChatSimulatorMediaVerdict != "pass" {
		t.Fatalf("defaults: %+v", d)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"MONGODB_URI": "mongodb://x"}, "REDIS_URL is required"},
		{map[string]string{"REDIS_URL": "redis://x"}, "MONGODB_URI is required"},
		{map[string]string{"MONGODB_URI": "http://x", "REDIS_URL": "redis://x"}, "MONGODB_URI must be"},
		{map[string]string{"MONGODB_URI": "mongodb://x", "REDIS_URL": "tcp://x"}, "REDIS_URL must be"},
		{map[string]string{"HTTP_ADDR": "8080"}, "HTTP_ADDR"},
		{map[string]string{"WECHAT_SIMULATOR_FAULTS": "msg_sec_check"}, "WECHAT_SIMULATOR_FAULTS"},
		{map[string]string{"WECHAT_SIMULATOR_FAULTS": "login=1"}, "WECHAT_SIMULATOR_FAULTS"},
		{map[string]string{"WECHAT_SIMULATOR_MEDIA_VERDICT": "bad"}, "WECHAT_SIMULATOR_MEDIA_VERDICT"},
		{map[string]string{"WECHAT_PUSH": "maybe"}, "WECHAT_PUSH"},
		{map[string]string{"WECHAT_PUSH": "off", "WECHAT_PUSH_TOKEN": "t"}, "WECHAT_PUSH"},
		{map[string]string{"SCREENING_MAX_ATTEMPTS": "0"}, "SCREENING_MAX_ATTEMPTS"},
		{map[string]string{"QUEUE_RETRY_AFTER": "x"}, "QUEUE_RETRY_AFTER"},
		{map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{map[string]string{"TOKEN_SECRET": "short"}, "TOKEN_SECRET must be at least 32"},
		{map[string]string{"TOKEN_TTL": "forever"}, "TOKEN_TTL"},
		{map[string]string{"WECHAT_SIMULATOR": "maybe"}, "WECHAT_SIMULATOR"},
		{map[string]string{"WECHAT_PUSH_AES_KEY": "abc"}, "WECHAT_PUSH_AES_KEY"},
		{map[string]string{"ADMIN_USERNAME": "root"}, "ADMIN_PASSWORD"},
		{map[string]string{"ADMIN_USERNAME": "root", "ADMIN_PASSWORD": "short"}, "ADMIN_PASSWORD must be at least"},
		{map[string]string{"PUBLIC_BASE_URL": "example.com"}, "PUBLIC_BASE_URL"},
		{map[string]string{"MONGODB_DATABASE": "a.b"}, "MONGODB_DATABASE"},
		{map[string]string{"LOGIN_RATE_PER_IP": "-1"}, "LOGIN_RATE_PER_IP"},
		{map[string]string{"RESOLUTION_PHOTO_MAX_DISTANCE_M": "0"}, "RESOLUTION_PHOTO_MAX_DISTANCE_M"},
		{map[string]string{"RANKING_WEIGHTS": "speed=1"}, "RANKING_WEIGHTS"},
		{map[string]string{"METRICS_ADDR": "9090"}, "METRICS_ADDR must be host:port"},
		{map[string]string{"METRICS_TOKEN": "short"}, "METRICS_TOKEN must be at least 16"},
		{map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,proxy.local"}, `TRUSTED_PROXIES must be a comma list of addresses or CIDR prefixes such as 10.0.0.0/8, not "proxy.local"`},
		{map[string]string{"TRUSTED_PROXIES": "10.0.0.0/33"}, "TRUSTED_PROXIES"},
		{map[string]string{"PHOTO_DECODE_MEMORY": "1000000"}, "PHOTO_DECODE_MEMORY must be at least"},
		{map[string]string{"UPLOAD_TIME_PER_MIB": "100ms"}, "UPLOAD_TIME_PER_MIB must be at least 1s"},
	}
	for _, tt := range tests {
		_, err := config.Load(env(tt.env))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%v) error = %v, want it to mention %q", tt.env, err, tt.want)
		}
	}
}

func TestLogValueMasksSecrets(t *testing.T) {
	c, err := config.Load(env(map[string]string{
		"MONGODB_URI": "mongodb://user:hunter2hunter2@db:27017", "REDIS_URL": "redis://:redispass@cache:6379",
		"TOKEN_SECRET": strings.Repeat("T", 40), "WECHAT_APPID": "wx1", "WECHAT_SECRET": "wechat-secret-value",
		"ADMIN_USERNAME": "admin", "ADMIN_PASSWORD": "admin-password-value", "WECHAT_PUSH_TOKEN": "push-token-value",
		"METRICS_TOKEN": "metrics-token-value",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	slog.New(slog.NewJSONHandler(&b, nil)).Info("config", "config", c)
	out := b.String()
	for _, secret := range []string{"hunter2hunter2", "redispass", strings.Repeat("T", 40), "wechat-secret-value", "admin-password-value", "push-token-value", "metrics-token-value"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains secret %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "db:27017") || !strings.Contains(out, "wx1") {
		t.Errorf("log lost the non-secret parts: %s", out)
	}
}
