// Command server runs 市民城管通: the HTTP API, its background workers, and —
// in the embedded default — its own MongoDB-compatible store, Redis and
// WeChat simulator. This package is wiring only.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, options{}); err != nil {
		fmt.Fprintln(os.Stderr, "chengguantong:", err)
		os.Exit(1)
	}
}
