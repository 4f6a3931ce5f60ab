// Command server runs 市民城管通: the HTTP API, its background workers, and —
// in the embedded default — its own MongoDB-compatible store, Redis and
// WeChat simulator. This package is wiring only.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/citizen-city/chengguantong/config"
	"github.com/citizen-city/chengguantong/service/stats"
)

// Usage:
//
//	server                     serve (the default)
//	server rebuild-stats       recompute every statistics roll-up from the tickets
//	server report -year 2026   print the figures of the bureau's annual report
//	server seed-demo           fill an empty store with a month of a city, for a demo
//	server seed-history        add a history of N tickets over D days to a store (benchmarks, demos)
//	server backup FILE         copy the embedded store to FILE, while the server runs
//	server restore FILE        put a backup back into an empty DATA_DIR
func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opt, err := subcommand(os.Args[1:], os.Stdout)
	if err == nil {
		logs := io.Writer(os.Stdout)
		if opt.command != nil {
			logs = os.Stderr // stdout is the command's answer
		}
		err = run(ctx, os.Getenv, logs, opt)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chengguantong:", err)
		os.Exit(1)
	}
}

// subcommand reads the command line into the options of run.
func subcommand(args []string, out io.Writer) (options, error) {
	if len(args) == 0 {
		return options{}, nil
	}
	opt, err := parseCommand(args, out)
	opt.name = args[0]
	return opt, err
}

// parseCommand reads one subcommand and its flags.
func parseCommand(args []string, out io.Writer) (options, error) {
	switch args[0] {
	case "rebuild-stats":
		return options{command: func(ctx context.Context, a *app) error {
			start := time.Now()
			n, err := a.stores.Stats.Rebuild(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "rebuilt the statistics from %d tickets in %s\n", n, time.Since(start).Round(time.Millisecond))
			return nil
		}}, nil
	case "report":
		fs := flag.NewFlagSet("report", flag.ContinueOnError)
		year := fs.Int("year", time.Now().Year(), "the calendar year to report")
		if err := fs.Parse(args[1:]); err != nil {
			return options{}, err
		}
		return options{command: func(ctx context.Context, a *app) error {
			if err := a.stores.Stats.Settle(ctx); err != nil {
				return err
			}
			f, err := stats.BureauFigures(ctx, a.svc.stats, *year)
			if err != nil {
				return err
			}
			fmt.Fprintln(out, f.Text())
			channels, err := stats.ChannelFigures(ctx, a.svc.stats, *year)
			if err != nil {
				return err
			}
			if text := stats.ChannelText(*year, channels); text != "" {
				fmt.Fprintln(out, text)
			}
			return nil
		}}, nil
	case "seed-demo":
		return seedDemo(args[1:], out)
	case "seed-history":
		return seedHistory(args[1:], out)
	case "backup", "restore":
		if len(args) != 2 || strings.HasPrefix(args[1], "-") {
			return options{}, fmt.Errorf("usage: server %s FILE", args[0])
		}
		file, backup := args[1], args[0] == "backup"
		return options{offline: func(ctx context.Context, cfg *config.Config) error {
			if backup {
				return backupStore(ctx, cfg, file, out)
			}
			return restoreStore(ctx, cfg, file, out)
		}}, nil
	}
	return options{}, fmt.Errorf("unknown command %q (want rebuild-stats, report, seed-demo, seed-history, backup or restore)", args[0])
}
