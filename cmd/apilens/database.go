package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/config"
	"github.com/apilens/apilens/store/mysql"
	"github.com/apilens/apilens/store/postgres"
	"github.com/apilens/apilens/store/sqlite"
)

// openStore opens the database cfg configures ([database] type), applying
// its pending migrations. The error names the database, never the
// password.
func openStore(ctx context.Context, cfg *config.Config, logger *slog.Logger) (apilens.Store, error) {
	db := cfg.Database
	switch db.Type {
	case config.DatabaseSQLite:
		s, err := sqlite.Open(ctx, db.URL, sqlite.Options{Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("open database %s: %w", db.URL, err)
		}
		return s, nil
	case config.DatabasePostgres:
		return postgres.Open(ctx, postgresOptions(db, logger))
	case config.DatabaseMySQL:
		return mysql.Open(ctx, mysqlOptions(db, logger))
	}
	return nil, fmt.Errorf("database.type %q: want %s, %s or %s", db.Type, config.DatabaseSQLite, config.DatabasePostgres, config.DatabaseMySQL)
}

func postgresOptions(db config.DatabaseConfig, logger *slog.Logger) postgres.Options {
	return postgres.Options{
		URL: db.URL, User: db.User, Password: db.Password.Reveal(),
		MaxConns: db.MaxPoolSize, MinIdle: db.MinIdle, IdleTimeout: time.Duration(db.IdleTimeout),
		ValidationQuery: db.ValidationQuery, ValidationTimeout: time.Duration(db.ValidationTimeout),
		Logger: logger,
	}
}

func mysqlOptions(db config.DatabaseConfig, logger *slog.Logger) mysql.Options {
	return mysql.Options{
		URL: db.URL, User: db.User, Password: db.Password.Reveal(),
		MaxConns: db.MaxPoolSize, IdleTimeout: time.Duration(db.IdleTimeout),
		ValidationQuery: db.ValidationQuery, ValidationTimeout: time.Duration(db.ValidationTimeout),
		Logger: logger,
	}
}

// migration is a pending schema migration of any backend.
type migration struct {
	version int
	name    string
	sql     string
}

// pendingMigrations returns what openStore would apply, changing nothing.
func pendingMigrations(ctx context.Context, cfg *config.Config) ([]migration, error) {
	var out []migration
	db := cfg.Database
	switch db.Type {
	case config.DatabaseSQLite:
		ms, err := sqlite.PendingMigrations(ctx, db.URL)
		for _, m := range ms {
			out = append(out, migration{m.Version, m.Name, m.SQL})
		}
		return out, err
	case config.DatabasePostgres:
		ms, err := postgres.PendingMigrations(ctx, postgresOptions(db, nil))
		for _, m := range ms {
			out = append(out, migration{m.Version, m.Name, m.SQL})
		}
		return out, err
	case config.DatabaseMySQL:
		ms, err := mysql.PendingMigrations(ctx, mysqlOptions(db, nil))
		for _, m := range ms {
			out = append(out, migration{m.Version, m.Name, m.SQL})
		}
		return out, err
	}
	return nil, fmt.Errorf("database.type %q: want %s, %s or %s", db.Type, config.DatabaseSQLite, config.DatabasePostgres, config.DatabaseMySQL)
}

// databaseName names cfg's database for messages: the SQLite file, or the
// type and the URL without its password.
func databaseName(cfg *config.Config) string {
	db := cfg.Database
	if db.Type == config.DatabaseSQLite {
		return "sqlite " + db.URL
	}
	return db.Type + " " + redactURL(db.URL)
}

// retentionCutoffs are the times before which the purge deletes raw
// batches, idempotency keys and log records; a zero time where the
// retention is 0 (forever), which deletes nothing.
type retentionCutoffs struct {
	raw, keys, logs time.Time
}

func cutoffs(cfg *config.Config, now time.Time) retentionCutoffs {
	before := func(d config.Duration) time.Time {
		if d <= 0 {
			return time.Time{}
		}
		return now.Add(-time.Duration(d))
	}
	// The idempotency window is no retention: 0 remembers nothing, so
	// every key may go.
	return retentionCutoffs{raw: before(cfg.Retention.RawEvents), keys: now.Add(-time.Duration(cfg.Ingest.IdempotencyWindow)), logs: before(cfg.Retention.Logs)}
}

var passwordParam = regexp.MustCompile(`(?i)(password=)('[^']*'|\S+)`)

// redactURL returns a database URL or DSN with its password masked.
func redactURL(u string) string {
	if p, err := url.Parse(u); err == nil && p.Scheme != "" && p.User != nil {
		return p.Redacted()
	}
	u = passwordParam.ReplaceAllString(u, "${1}xxxxx")
	// A DSN: user:password@tcp(host)/db.
	if at := strings.LastIndex(u, "@"); at >= 0 {
		if c := strings.Index(u[:at], ":"); c >= 0 {
			return u[:c+1] + "xxxxx" + u[at:]
		}
	}
	return u
}
