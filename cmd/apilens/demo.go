package main

import (
	"context"
	"fmt"
	"time"

	"github.com/apilens/apilens/ingest"
	"github.com/apilens/apilens/simulate"
)

func init() {
	register("demo", "run a server on embedded defaults with a simulated gateway feeding it live traffic", runDemo)
}

func runDemo(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "demo", "[--data-dir DIR] [--http-addr HOST:PORT] [--rate N]")
	var sf serverFlags
	sf.add(fs)
	rate := fs.Float64("rate", 100, "live events per second")
	backfill := fs.Int64("backfill", 200_000, "events of history spread over the last 7 days, sent on a first start (0: none)")
	seed := fs.Uint64("seed", 1, "simulator seed")
	logs := fs.Bool("logs", true, "also ship the gateways' logs (gw-1, gw-2) that go with the traffic, history included, for the log analyzer")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if sf.dataDir == "" && env.getenv("APILENS_SERVER_DATA_DIR") == "" {
		sf.dataDir = "apilens-demo"
	}
	cfg, err := sf.load(env)
	if err != nil {
		return err
	}
	m := &Main{Config: cfg, Stdout: env.stdout, Logger: newLogger(cfg, env.stderr), ResetAdminPassword: true}
	if err := m.Open(ctx); err != nil {
		m.Close()
		return err
	}
	defer m.Close()
	pass := m.AdminPassword
	if pass == "" {
		pass = cfg.Admin.Password.Reveal()
	}
	fmt.Fprintf(env.stdout, "\nOpen the dashboard at %s and log in as %s.\nOr try the API:\n  curl -su '%s:%s' '%s/api/v1/traffic/summary' | jq\n  curl -su '%s:%s' '%s/api/v1/traffic/top?dimension=api' | jq\n\n",
		m.URL(), cfg.Admin.User, cfg.Admin.User, pass, m.URL(), cfg.Admin.User, pass, m.URL())

	run := simulate.RunOptions{
		Options: simulate.Options{Seed: *seed},
		URL:     m.URL(), User: cfg.Admin.User, Password: pass,
		MaxRetries: -1,
	}
	if *logs {
		run.Logs = &simulate.LogRun{Sources: []string{"gw-1", "gw-2"}}
	}
	start, err := m.Store.StreamOffset(ctx, ingest.Stream)
	if err != nil {
		return err
	}
	if *backfill > 0 && start == 0 && m.Pipeline.Flushed() == 0 {
		what := "events"
		if *logs {
			what = "events and their gateway logs"
		}
		fmt.Fprintf(env.stdout, "Sending %d %s of history (the last 7 days)…\n", *backfill, what)
		bf := run
		now := time.Now()
		bf.BackfillFrom, bf.BackfillTo = now.Add(-7*24*time.Hour), now
		bf.Count = *backfill
		bf.BatchSize = 2000
		bf.Progress = env.stderr
		if _, err := simulate.Run(ctx, bf); err != nil && ctx.Err() == nil {
			return fmt.Errorf("backfill: %w", err)
		}
	}
	fmt.Fprintf(env.stdout, "Live traffic: %.0f events/s. Press Ctrl-C to stop.\n", *rate)
	live := run
	live.Options.Seed = *seed + uint64(time.Now().Unix())
	live.Rate = *rate
	live.BatchSize = max(int(*rate), 1)
	live.Concurrency = 1
	live.Progress = env.stderr
	if _, err := simulate.Run(ctx, live); err != nil && ctx.Err() == nil {
		return fmt.Errorf("simulator: %w", err)
	}
	return nil
}
