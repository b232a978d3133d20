package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/config"
)

func init() {
	register("purge", "delete what the retention settings no longer keep (--dry-run counts it)", runPurge)
}

// purgeCounter is what `apilens purge --dry-run` needs of a store: every
// backend has it.
type purgeCounter interface {
	PurgeCounts(ctx context.Context, now time.Time, r apilens.Retention, rawBefore, keysBefore, logsBefore time.Time) (map[string]int64, error)
}

// purgeTables are the names PurgeCounts reports, in the order printed.
func purgeTables() []string {
	var names []string
	for _, g := range apilens.Granularities {
		names = append(names, "rollups/"+g.String())
	}
	return append(names, "raw_batches", "idempotency_keys", "log_records")
}

func runPurge(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "purge", "[--config FILE] [--data-dir DIR] [--dry-run]")
	var sf serverFlags
	sf.add(fs)
	dryRun := fs.Bool("dry-run", false, "count what would be deleted, delete nothing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := sf.load(env)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now()
	c := cutoffs(cfg, now)
	counter, ok := db.(purgeCounter)
	if !ok {
		return fmt.Errorf("%s cannot count a purge", databaseName(cfg))
	}
	counts, err := counter.PurgeCounts(ctx, now, cfg.Retention.Rollups(), c.raw, c.keys, c.logs)
	if err != nil {
		return err
	}
	verb := "to delete"
	if *dryRun {
		verb = "would delete"
	}
	fmt.Fprintf(env.stdout, "%s: retention %s\n", databaseName(cfg), verb)
	var total int64
	for _, name := range purgeTables() {
		n, ok := counts[name]
		if !ok {
			fmt.Fprintf(env.stdout, "  %-22s kept forever\n", name)
			continue
		}
		fmt.Fprintf(env.stdout, "  %-22s %d rows\n", name, n)
		total += n
	}
	if *dryRun || total == 0 {
		fmt.Fprintf(env.stdout, "total: %d rows\n", total)
		return nil
	}
	start := time.Now()
	fmt.Fprintf(env.stdout, "deleting rollups, raw batches and idempotency keys… ")
	n, err := db.Purge(ctx, now, cfg.Retention.Rollups(), c.raw, c.keys)
	if err != nil {
		fmt.Fprintln(env.stdout, "failed")
		return err
	}
	fmt.Fprintf(env.stdout, "%d rows (%v)\n", n, time.Since(start).Round(time.Millisecond))
	if cfg.Retention.Logs > 0 {
		start := time.Now()
		fmt.Fprintf(env.stdout, "deleting log records… ")
		logs, err := db.PurgeLogs(ctx, c.logs)
		if err != nil {
			fmt.Fprintln(env.stdout, "failed")
			return err
		}
		fmt.Fprintf(env.stdout, "%d rows (%v)\n", logs, time.Since(start).Round(time.Millisecond))
		n += logs
	}
	fmt.Fprintf(env.stdout, "total: %d rows deleted\n", n)
	return nil
}

// purgeOnce is one round of the server's retention task: the same
// deletions as `apilens purge`, on any backend.
func purgeOnce(ctx context.Context, cfg *config.Config, db apilens.Store, logger *slog.Logger) {
	now := time.Now()
	c := cutoffs(cfg, now)
	n, err := db.Purge(ctx, now, cfg.Retention.Rollups(), c.raw, c.keys)
	if err == nil && cfg.Retention.Logs > 0 {
		var logs int64
		logs, err = db.PurgeLogs(ctx, c.logs)
		n += logs
	}
	if err != nil {
		logger.Error("retention purge failed; retrying in 10 minutes", "err", err)
		return
	}
	if n > 0 {
		logger.Info("retention purge", "rows_deleted", n)
	}
}
