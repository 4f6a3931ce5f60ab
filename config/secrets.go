package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// A secret the embedded mode keeps in a file under DATA_DIR when its
// variable is not set.
type embeddedSecret struct {
	file     string // name under DATA_DIR
	variable string // the variable that, when set, takes its place
	what     string // what it is, for messages
	min      int    // the fewest characters accepted, as for the variable
	lost     string // what replacing it costs, for messages
	dst      *string
}

// FillEmbeddedSecrets gives the embedded mode the secrets it may generate,
// each kept in a file under DataDir so that restarts keep every login
// working: the token secret (token-secret), the message-push token shared by
// the simulator and /wechat/push (push-token) and the first staff account's
// password (admin-password). A variable that is set wins over its file.
//
// A missing file is generated and the log says so. A file that exists but
// is empty, too short or unreadable is never replaced: that would end every
// session (or change the password) without a word. The error names the file
// and what to do, in Chinese, and the server does not start.
func (c *Config) FillEmbeddedSecrets(logger *slog.Logger) error {
	var secrets []embeddedSecret
	if c.WeChatPush && c.WeChatPushToken == "" {
		secrets = append(secrets, embeddedSecret{file: "push-token", variable: "WECHAT_PUSH_TOKEN", what: "微信消息推送令牌（Token）",
			min: 3, lost: "内置的微信模拟器与 /wechat/push 会一起换用新令牌", dst: &c.WeChatPushToken})
	}
	if c.TokenSecret == "" {
		secrets = append(secrets, embeddedSecret{file: "token-secret", variable: "TOKEN_SECRET", what: "登录令牌的签名密钥",
			min: 32, lost: "所有已登录的用户都需要重新登录，已发出的照片链接失效", dst: &c.TokenSecret})
	}
	if c.AdminPassword == "" {
		secrets = append(secrets, embeddedSecret{file: "admin-password", variable: "ADMIN_PASSWORD", what: "工作人员账号 " + c.AdminUsername + " 的密码",
			min: 10, lost: "该账号的密码改为新生成的密码（仍写在这个文件里）", dst: &c.AdminPassword})
	}
	for _, s := range secrets {
		path := filepath.Join(c.DataDir, s.file)
		v, created, err := readOrCreateSecret(path, s)
		if err != nil {
			return err
		}
		*s.dst = v
		switch {
		case created && s.file == "admin-password":
			logger.Warn("created the staff console account; its password is in the file named here", "username", c.AdminUsername, "password_file", path)
		case created:
			logger.Warn("generated a new secret and kept it in the file named here", "secret", s.variable, "file", path)
		case s.file == "admin-password":
			logger.Info("staff console account", "username", c.AdminUsername, "password_file", path)
		}
	}
	return nil
}

// readOrCreateSecret reads the secret in path, or generates one there if
// the file does not exist.
func readOrCreateSecret(path string, s embeddedSecret) (secret string, created bool, err error) {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		// Generated below.
	case err != nil:
		return "", false, fmt.Errorf("无法读取%s文件 %s（%v）：请检查该文件及其目录的权限；若要重新生成，删除它后再启动（%s），或设置环境变量 %s",
			s.what, path, err, s.lost, s.variable)
	default:
		v := strings.TrimSpace(string(b))
		switch n := utf8.RuneCountInString(v); {
		case n == 0:
			return "", false, fmt.Errorf("%s文件 %s 是空的：请删除它，服务器启动时会重新生成（%s）；或在其中写入至少 %d 个字符的%s，或设置环境变量 %s",
				s.what, path, s.lost, s.min, s.what, s.variable)
		case n < s.min:
			return "", false, fmt.Errorf("%s文件 %s 只有 %d 个字符，至少需要 %d 个：请删除它，服务器启动时会重新生成（%s）；或在其中写入至少 %d 个字符的%s，或设置环境变量 %s",
				s.what, path, n, s.min, s.lost, s.min, s.what, s.variable)
		}
		return v, false, nil
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", false, err
	}
	secret = hex.EncodeToString(raw)
	if err := writeNewFile(path, []byte(secret+"\n")); err != nil {
		return "", false, fmt.Errorf("无法在 DATA_DIR 中写入新生成的%s文件 %s（%v）：请检查目录 %s 是否存在且可写", s.what, path, err, filepath.Dir(path))
	}
	return secret, true, nil
}

// writeNewFile writes data to path whole or not at all (a temporary file
// renamed into place), readable by the owner alone.
func writeNewFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after the rename, there is nothing left to remove
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
