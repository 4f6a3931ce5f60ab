package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/citizen-city/chengguantong/config"
)

// embeddedSecrets fills in what the single-machine mode may generate: the
// token secret, the message-push token shared by the simulator and
// /wechat/push, and the first staff account's password, each kept in a file
// under DATA_DIR so that restarts keep every login working.
func embeddedSecrets(cfg *config.Config, logger *slog.Logger) error {
	if cfg.WeChatPush && cfg.WeChatPushToken == "" {
		s, _, err := readOrCreateSecret(filepath.Join(cfg.DataDir, "push-token"))
		if err != nil {
			return err
		}
		cfg.WeChatPushToken = s
	}
	if cfg.TokenSecret == "" {
		s, _, err := readOrCreateSecret(filepath.Join(cfg.DataDir, "token-secret"))
		if err != nil {
			return err
		}
		cfg.TokenSecret = s
	}
	if cfg.AdminPassword == "" {
		path := filepath.Join(cfg.DataDir, "admin-password")
		s, created, err := readOrCreateSecret(path)
		if err != nil {
			return err
		}
		cfg.AdminPassword = s
		if created {
			logger.Warn("created the staff console account; its password is in the file named here", "username", cfg.AdminUsername, "password_file", path)
		} else {
			logger.Info("staff console account", "username", cfg.AdminUsername, "password_file", path)
		}
	}
	return nil
}

func readOrCreateSecret(path string) (secret string, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), false, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("read %s: %w", path, err)
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", false, err
	}
	secret = hex.EncodeToString(raw)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("write %s: %w", path, err)
	}
	return secret, true, nil
}
