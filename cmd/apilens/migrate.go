package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

func init() {
	register("migrate", "create or upgrade the database's tables (--dry-run prints the pending migrations)", runMigrate)
}

func runMigrate(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "migrate", "[--config FILE] [--data-dir DIR] [--dry-run]")
	var sf serverFlags
	sf.add(fs)
	dryRun := fs.Bool("dry-run", false, "print the pending migrations' SQL without applying them")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := sf.load(env)
	if err != nil {
		return err
	}
	name := databaseName(cfg)
	pending, err := pendingMigrations(ctx, cfg)
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		fmt.Fprintf(env.stdout, "%s: the schema is up to date\n", name)
		return nil
	}
	fmt.Fprintf(env.stdout, "%s: %d pending migration(s)\n", name, len(pending))
	for _, m := range pending {
		if *dryRun {
			fmt.Fprintf(env.stdout, "\n-- %04d_%s\n%s\n", m.version, m.name, strings.TrimSpace(m.sql))
		} else {
			fmt.Fprintf(env.stdout, "  %04d_%s\n", m.version, m.name)
		}
	}
	if *dryRun {
		return nil
	}
	// Opening applies them, each recorded as it succeeds, under the lock
	// that keeps processes starting together from applying one twice.
	db, err := openStore(ctx, cfg, slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%s: applied %d migration(s)\n", name, len(pending))
	return nil
}
