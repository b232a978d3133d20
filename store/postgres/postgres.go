// Package postgres is the PostgreSQL backend of apilens: an apilens.Store
// through jackc/pgx (a pgxpool connection pool).
//
// # Schema
//
// The tables are the SQLite backend's (see package sqlite): rollups keyed
// by (family, gran, bucket, key_hash) with the dimension values in d0..d6,
// raw batches, idempotency keys, stream offsets, users, tokens, log records
// and log sources. Every text column is COLLATE "C", so keys are
// case-sensitive and compared byte for byte whatever the database's
// default collation. The numbered SQL files embedded from migrations/ are
// applied at Open, each in a transaction that also records it in
// schema_migrations; a session advisory lock makes processes that start
// together take turns, the later ones finding the work done.
//
// # Flushes
//
// ApplyFlush is one transaction: the stream offset, the idempotency keys,
// the raw batches and the rollup rows, so a flush is kept whole or not at
// all and a replay from the recorded offset counts every event once.
// Flushes of one database take a transaction-scoped advisory lock first,
// so several workers may flush at once and take turns. Rollup rows are
// planned by package sqlstore: the stored rows of a chunk's keys are read
// and locked with one SELECT … FOR UPDATE over unnest()ed key arrays, their
// latency sketches merged with the new ones in Go, the updates applied by
// one UPDATE … FROM unnest() that adds the counters, and the new rows
// written with COPY. A hash collision is resolved as SQLite does: the row
// goes to the next free slot, where later flushes find it again.
//
// Times are stored as integers: buckets in Unix seconds, every other time
// in Unix microseconds.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/apilens/apilens"
)

// Options configure a DB. URL is required; zero values of the rest mean
// their defaults.
type Options struct {
	// URL is a PostgreSQL connection string, as a URL
	// (postgres://user@host:5432/db?sslmode=disable) or key=value pairs.
	URL string
	// User and Password override those of the URL when not empty.
	User     string
	Password string
	// MaxConns bounds the pool; 0 means 10.
	MaxConns int
	// MinIdle is how many idle connections the pool keeps ready.
	MinIdle int
	// IdleTimeout closes connections idle for longer; 0 means a minute.
	IdleTimeout time.Duration
	// ValidationQuery is what Ping runs; "" means "SELECT 1".
	ValidationQuery string
	// ValidationTimeout bounds Ping, and a new connection's attempt to
	// connect; 0 means 5 seconds.
	ValidationTimeout time.Duration
	// Logger receives migration and collision messages; nil discards them.
	Logger *slog.Logger
}

// DB is an apilens.Store in a PostgreSQL database. It is safe for
// concurrent use.
type DB struct {
	pool   *pgxpool.Pool
	name   string // host:port/database, for messages (never the password)
	logger *slog.Logger
	opts   Options
}

var _ apilens.Store = (*DB)(nil)

// Lock keys of pg_advisory_lock: any constants other applications are
// unlikely to pick ("apilens" and a number, in ASCII).
const (
	migrateLock = 0x6170696c656e7301
	flushLock   = 0x6170696c656e7302
)

// config parses opts into a pool configuration and returns it with the
// name messages use for the database.
func config(opts Options) (*pgxpool.Config, string, error) {
	if opts.URL == "" {
		return nil, "", errors.New("open postgres: no database URL")
	}
	cfg, err := pgxpool.ParseConfig(opts.URL)
	if err != nil {
		// pgx leaves the password out of its parse errors.
		return nil, "", fmt.Errorf("open postgres: %w", err)
	}
	cc := cfg.ConnConfig
	if opts.User != "" {
		cc.User = opts.User
	}
	if opts.Password != "" {
		cc.Password = opts.Password
	}
	name := cc.Host + ":" + strconv.Itoa(int(cc.Port)) + "/" + cc.Database
	timeout := opts.ValidationTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	if cc.ConnectTimeout == 0 {
		// Without it, an unreachable host fails only when the kernel
		// gives up, minutes later.
		cc.ConnectTimeout = timeout
	}
	cfg.MaxConns = 10
	if opts.MaxConns > 0 {
		cfg.MaxConns = int32(opts.MaxConns)
	}
	cfg.MinIdleConns = int32(min(opts.MinIdle, int(cfg.MaxConns)))
	cfg.MaxConnIdleTime = time.Minute
	if opts.IdleTimeout > 0 {
		cfg.MaxConnIdleTime = opts.IdleTimeout
	}
	return cfg, name, nil
}

// Open connects to the database opts.URL names and applies the pending
// migrations. An unreachable database is an error naming its host.
func Open(ctx context.Context, opts Options) (_ *DB, err error) {
	cfg, name, err := config(opts)
	if err != nil {
		return nil, err
	}
	db := &DB{name: name, logger: opts.Logger, opts: opts}
	if db.logger == nil {
		db.logger = slog.New(slog.DiscardHandler)
	}
	db.logger = db.logger.With("component", "postgres")
	if db.opts.ValidationQuery == "" {
		db.opts.ValidationQuery = "SELECT 1"
	}
	if db.opts.ValidationTimeout <= 0 {
		db.opts.ValidationTimeout = 5 * time.Second
	}
	db.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			db.pool.Close()
		}
	}()
	if err := db.validate(ctx); err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", name, err)
	}
	if err := db.migrate(ctx); err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", name, err)
	}
	return db, nil
}

// Ping runs the validation query, bounded by the validation timeout.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.validate(ctx); err != nil {
		return fmt.Errorf("ping postgres %s: %w", db.name, err)
	}
	return nil
}

func (db *DB) validate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, db.opts.ValidationTimeout)
	defer cancel()
	_, err := db.pool.Exec(ctx, db.opts.ValidationQuery)
	return err
}

// Close closes the pool, waiting for connections in use to be released.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}
