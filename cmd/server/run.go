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
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citizen-city/chengguantong/config"
	"github.com/citizen-city/chengguantong/handler"
	"github.com/citizen-city/chengguantong/store/sqlite"
)

// run serves until ctx is done, then shuts down gracefully: it stops
// accepting, drains in-flight requests, stops the background work and
// closes the stores. It reads top to bottom as the process's life:
// configuration → stores → WeChat → services → HTTP → background work →
// wait → shut down.
func run(ctx context.Context, getenv func(string) string, logOut io.Writer, opt options) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if opt.offline != nil {
		return opt.offline(ctx, cfg)
	}
	logger := slog.New(handler.LogHandler{Handler: slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: cfg.LogLevel})})
	now := opt.now
	if now == nil {
		now = time.Now
	}
	instance := instanceName()
	logger.Info("starting", "config", cfg, "instance", instance)
	if cfg.Mode == config.ModeEmbedded {
		// Before anything starts: a corrupt secret stops the server.
		if err := cfg.FillEmbeddedSecrets(logger); err != nil {
			return err
		}
	}

	if cfg.Mode == config.ModeEmbedded && opt.command != nil {
		// A maintenance command needs the store to itself: say so plainly
		// rather than the lock's message for a second server.
		if held, pid := sqlite.Held(cfg.DataDir); held {
			if pid == "" {
				pid = "未知"
			}
			return fmt.Errorf("数据目录 %s 正被运行中的服务进程（pid %s）使用；server %s 需要独占数据目录，不能在服务运行时执行。请先停止服务（如 kill -TERM %s），再运行 server %s，完成后重新启动服务",
				cfg.DataDir, pid, opt.name, pid, opt.name)
		}
	}
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := openStores(startCtx, cfg, instance, now, opt, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	wx, closeWeChat := openWeChat(cfg, opt, st.redis, logger)
	defer closeWeChat()

	// Bind first: the public URL (signed photo links, WeChat's callbacks)
	// may depend on the port. A subcommand serves nothing.
	var ln net.Listener
	addr := cfg.HTTPAddr
	if opt.command == nil {
		if ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return fmt.Errorf("listen on HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
		}
		defer ln.Close()
		addr = ln.Addr().String()
	}
	baseURL := cfg.BaseURL(addr)
	svc, err := newServices(startCtx, cfg, st, wx.client, baseURL, instance, now, logger)
	if err != nil {
		return err
	}
	if opt.command != nil {
		return opt.command(ctx, &app{cfg: cfg, stores: st, svc: svc, seed: svc.seedServices(st, logger), openID: simulatorOpenID(wx, opt)})
	}
	registry := prometheus.NewRegistry()
	srv := &http.Server{
		Handler:           newHTTPHandler(cfg, st, svc, wx, registry, baseURL, now, logger),
		ReadHeaderTimeout: 5 * time.Second,
		// Photos come from phones on weak networks: allow a slow body.
		ReadTimeout:    60 * time.Second,
		WriteTimeout:   handler.ServerWriteTimeout, // moved on for a slow upload within its pace
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: handler.ServerMaxHeaderBytes, // past handler.MaxHeaderBytes: 431 with the envelope
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	wx.pushTo(baseURL + "/wechat/push")
	stopMetrics, err := serveMetrics(cfg.MetricsAddr, registry, logger, opt.onMetricsReady)
	if err != nil {
		return err
	}
	defer stopMetrics()

	// Registered only when it serves: a subcommand leaves nothing for the
	// others to take over.
	if err := svc.liveness.Register(startCtx); err != nil {
		return err
	}
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var work sync.WaitGroup
	for _, loop := range backgroundWork(cfg, st, svc, logger) {
		work.Go(func() { loop(workCtx) })
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
	logger.Info("stopping background work")
	stopWork()
	work.Wait()
	// What this instance leaves pending (jobs waiting for a retry, handoffs)
	// is taken over by the others at once.
	if err := svc.liveness.Stop(shutCtx); err != nil {
		logger.Warn("liveness mark not removed; the others take over when it expires", "error", err.Error())
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// instanceName names this process: its queue consumers, liveness mark and
// the handoffs it commits.
func instanceName() string {
	host, _ := os.Hostname()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}
