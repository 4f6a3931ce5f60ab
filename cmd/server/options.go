package main

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/citizen-city/chengguantong/config"
	"github.com/citizen-city/chengguantong/service/seed"
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
	// command, when set, runs instead of the HTTP server, with the stores
	// open and the services built (the subcommands).
	command func(ctx context.Context, a *app) error
	// mongoMonitor, when set, sees every MongoDB command the server sends
	// (the command-counting benchmark).
	mongoMonitor *event.CommandMonitor
	// offline, when set, runs instead of everything else, with the
	// configuration only (backup and restore, which must not open the
	// store the way a server does).
	offline func(ctx context.Context, cfg *config.Config) error
	// onMetricsReady receives the address of the metrics listener.
	onMetricsReady func(addr string)
	// name is the subcommand's name (rebuild-stats …), for its messages.
	name string
}

// app is what a subcommand works with: the configuration, the stores and
// the services.
type app struct {
	cfg    *config.Config
	stores *stores
	svc    *services
	// seed are the services seed-demo and seed-history lay a city out
	// through (Staff unset).
	seed seed.Services
	// openID is the openid WeChat gives a login code: the simulator's, or
	// nil with the real WeChat.
	openID func(code string) string
}
