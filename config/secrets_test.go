package config_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/citizen-city/chengguantong/config"
)

func embedded(t *testing.T, dir string) *config.Config {
	t.Helper()
	c, err := config.Load(env(map[string]string{"DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMissingSecretsAreGeneratedAndLogged: a first start writes each secret
// to its file (the owner's alone) and says so; the next start reads the same
// values back and writes nothing.
func TestMissingSecretsAreGeneratedAndLogged(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	c := embedded(t, dir)
	if err := c.FillEmbeddedSecrets(slog.New(slog.NewJSONHandler(&logs, nil))); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]string{"token-secret": c.TokenSecret, "push-token": c.WeChatPushToken, "admin-password": c.AdminPassword} {
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		if err != nil || strings.TrimSpace(string(b)) != got || len(got) < 32 {
			t.Errorf("%s: file %q, config %q, %v", name, b, got, err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v %v", name, fi.Mode(), err)
		}
		if !strings.Contains(logs.String(), path) {
			t.Errorf("the log does not name %s:\n%s", path, logs.String())
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("DATA_DIR holds %d entries, want the 3 secrets (no temporary files)", len(entries))
	}

	again := embedded(t, dir)
	logs.Reset()
	if err := again.FillEmbeddedSecrets(slog.New(slog.NewJSONHandler(&logs, nil))); err != nil {
		t.Fatal(err)
	}
	if again.TokenSecret != c.TokenSecret || again.WeChatPushToken != c.WeChatPushToken || again.AdminPassword != c.AdminPassword {
		t.Error("a restart read other secrets")
	}
	if strings.Contains(logs.String(), "generated") {
		t.Errorf("a restart generated a secret:\n%s", logs.String())
	}
}

// TestCorruptSecretsStopTheServer: an empty, short or unreadable secret
// file is never replaced; the error names the file and what to do.
func TestCorruptSecretsStopTheServer(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		setup      func(path string) error
		want       []string
	}{
		{"empty token secret", "token-secret", func(p string) error { return os.WriteFile(p, []byte("\n"), 0o600) },
			[]string{"登录令牌的签名密钥文件", "是空的", "请删除它", "TOKEN_SECRET"}},
		{"short token secret", "token-secret", func(p string) error { return os.WriteFile(p, []byte("abc123\n"), 0o600) },
			[]string{"只有 6 个字符，至少需要 32 个", "所有已登录的用户都需要重新登录"}},
		{"short admin password", "admin-password", func(p string) error { return os.WriteFile(p, []byte("short"), 0o600) },
			[]string{"工作人员账号 admin 的密码文件", "只有 5 个字符，至少需要 10 个", "ADMIN_PASSWORD"}},
		{"empty push token", "push-token", func(p string) error { return os.WriteFile(p, nil, 0o600) },
			[]string{"微信消息推送令牌（Token）文件", "是空的", "WECHAT_PUSH_TOKEN"}},
		{"unreadable token secret", "token-secret", func(p string) error { return os.Mkdir(p, 0o700) },
			[]string{"无法读取登录令牌的签名密钥文件", "请检查该文件及其目录的权限"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, tc.file)
			if err := tc.setup(path); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(path)
			err := embedded(t, dir).FillEmbeddedSecrets(slog.New(slog.DiscardHandler))
			if err == nil {
				t.Fatal("the server would start")
			}
			for _, want := range append(tc.want, path) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Errorf("the file was changed: %q → %q", before, after)
			}
		})
	}
}

// TestSecretVariablesWinOverFiles: with the variables set nothing is read
// or written under DATA_DIR.
func TestSecretVariablesWinOverFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "token-secret"), nil, 0o600) // corrupt, but not used
	c, err := config.Load(env(map[string]string{"DATA_DIR": dir, "TOKEN_SECRET": strings.Repeat("k", 32),
		"WECHAT_PUSH_TOKEN": "push", "ADMIN_USERNAME": "root", "ADMIN_PASSWORD": "0123456789"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.FillEmbeddedSecrets(slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("DATA_DIR holds %d entries", len(entries))
	}
}
