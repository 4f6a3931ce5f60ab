package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citizen-city/chengguantong/config"
	"github.com/citizen-city/chengguantong/docs"
	"github.com/citizen-city/chengguantong/handler"
	"github.com/citizen-city/chengguantong/service"
	"github.com/citizen-city/chengguantong/store"
	"github.com/citizen-city/chengguantong/wechat"
	"github.com/citizen-city/chengguantong/wechat/wechatsim"
)

// options are what tests can set that the environment cannot.
type options struct {
	// onReady receives the address the server listens on.
	onReady func(addr string)
	// simulator, when set, is used instead of a new one, so that several
	// instances in one test share one simulated WeChat.
	simulator *wechatsim.Simulator
	now       func() time.Time
}

// run starts the server and serves until ctx is done, then shuts down
// gracefully: it stops accepting, drains in-flight requests, stops the
// background workers and closes the stores.
func run(ctx context.Context, getenv func(string) string, logOut io.Writer, opt options) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	logger := slog.New(handler.LogHandler{Handler: slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: cfg.LogLevel})})
	now := opt.now
	if now == nil {
		now = time.Now
	}
	logger.Info("starting", "config", cfg)

	mongoURI, redisURL := cfg.MongoURI, cfg.RedisURL
	if cfg.Mode == config.ModeEmbedded {
		emb, err := store.StartEmbedded(cfg.DataDir, logger)
		if err != nil {
			return err
		}
		defer emb.Close()
		mongoURI, redisURL = emb.MongoURI, emb.RedisURL
		logger.Warn("EMBEDDED SINGLE-MACHINE MODE: FerretDB (SQLite) under DATA_DIR, an in-process Redis and the WeChat simulator run inside this process; set MONGODB_URI and REDIS_URL for production",
			"data_dir", cfg.DataDir)
		if err := embeddedSecrets(cfg, logger); err != nil {
			return err
		}
	} else if cfg.WeChatSimulator {
		logger.Warn("WECHAT_SIMULATOR=true: WeChat is simulated in-process; no real WeChat user can log in")
	}

	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	mongo, err := store.OpenMongo(startCtx, mongoURI, cfg.MongoDatabase)
	if err != nil {
		return err
	}
	defer mongo.Close(context.Background())
	if err := mongo.EnsureIndexes(startCtx); err != nil {
		return err
	}
	rdb, err := store.OpenRedis(startCtx, redisURL, cfg.RedisKeyPrefix)
	if err != nil {
		return err
	}
	defer rdb.Close()

	wcfg := wechat.Config{AppID: cfg.WeChatAppID, Secret: cfg.WeChatSecret, PushToken: cfg.WeChatPushToken, PushAESKey: cfg.WeChatPushAESKey}
	sim := opt.simulator
	if cfg.WeChatSimulator && sim == nil {
		sim = wechatsim.New(wechatsim.Options{
			AppID: wcfg.AppID, Secret: wcfg.Secret, PushToken: wcfg.PushToken, PushAESKey: wcfg.PushAESKey,
			Encrypted: wcfg.PushAESKey != "",
		})
		defer sim.Close()
		defer sim.Install()()
	}
	wx := wechat.New(wcfg, store.NewWeChatCache(rdb))

	users := store.NewUsers(mongo, now)
	invites := store.NewInvites(mongo, now)
	people := store.NewPeople(mongo, now)
	tokens := service.NewTokens([]byte(cfg.TokenSecret), cfg.TokenTTL, now)
	auth := service.NewAuth(service.AuthDeps{
		WeChat: wechat.Login{Client: wx}, Users: users, Invites: invites, Profiles: people,
		Limiter: store.NewRateLimiter(rdb), Tokens: tokens, Logger: logger,
		Limits: service.AuthLimits{PerAccountPerMinute: cfg.LoginPerAccountPerMinute, PerIPPerMinute: cfg.LoginPerIPPerMinute},
	})
	if cfg.AdminUsername != "" {
		if err := auth.EnsureAdmin(startCtx, cfg.AdminUsername, cfg.AdminPassword); err != nil {
			return err
		}
	}

	e := handler.New(handler.Deps{
		Logger:   logger,
		Auth:     auth,
		People:   service.NewPeople(people, invites, cfg.InviteTTL, now),
		Ready:    map[string]handler.Pinger{"mongodb": mongo, "redis": rdb},
		Registry: prometheus.NewRegistry(),
		OpenAPI:  docs.OpenAPIJSON(),
	})
	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 5 * time.Second,
		// Photos come from phones on weak networks: allow a slow body.
		ReadTimeout:    60 * time.Second,
		WriteTimeout:   60 * time.Second,
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 32 << 10,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	addr := ln.Addr().String()
	if sim != nil && opt.simulator == nil {
		sim.SetPushURL(pushURL(cfg, addr))
	}
	logger.Info("listening", "addr", addr, "mode", cfg.Mode)
	if opt.onReady != nil {
		opt.onReady(addr)
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: draining requests")
	shutCtx, cancelShut := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancelShut()
	if err := srv.Shutdown(shutCtx); err != nil {
		logger.Warn("shutdown did not drain in time", "error", err.Error())
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// pushURL is where the simulator delivers WeChat's message pushes: this
// server itself. With port 0 only the listener knows the port.
func pushURL(cfg *config.Config, addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	if strings.HasSuffix(cfg.HTTPAddr, ":0") {
		return "http://127.0.0.1:" + port + "/wechat/push"
	}
	return cfg.PublicBaseURL + "/wechat/push"
}

// embeddedSecrets fills in what the single-machine mode may generate: the
// token secret and the first staff account's password, each kept in a file
// under DATA_DIR so that restarts keep every login working.
func embeddedSecrets(cfg *config.Config, logger *slog.Logger) error {
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
