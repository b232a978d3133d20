// Package mysql is the MySQL and MariaDB backend of apilens: an
// apilens.Store through go-sql-driver/mysql.
//
// # Schema
//
// The tables are the SQLite backend's (see package sqlite), InnoDB, in
// utf8mb4 with a binary collation on every table, so keys are
// case-sensitive: "Api" and "API" are two APIs, not a primary-key
// violation (the collation pitfall of the seed's MySQL setup). Where the
// server has a NO PAD binary collation (utf8mb4_0900_bin on MySQL 8,
// utf8mb4_nopad_bin on MariaDB) it is used, so trailing spaces count too.
//
// MySQL commits DDL as it goes, so migrations cannot be transactional:
// every statement of a migration is idempotent (CREATE TABLE IF NOT
// EXISTS, INSERT IGNORE), a migration is recorded in schema_migrations
// only once all of its statements succeeded, and one cut short is simply
// run again. Processes that start together take turns on a named lock
// (GET_LOCK).
//
// # Flushes
//
// ApplyFlush is one transaction: the stream offset, the idempotency keys,
// the raw batches and the rollup rows. It first locks the one row of
// flush_lock, so flushes from several processes take turns. Rollup rows
// are planned by package sqlstore: the stored rows of a chunk's keys are
// read with SELECT … FOR UPDATE, their latency sketches merged with the
// new ones in Go, and the chunk written with one multi-row INSERT … ON
// DUPLICATE KEY UPDATE that adds the counters. Hash collisions are
// resolved as SQLite does.
//
// Times are stored as integers: buckets in Unix seconds, every other time
// in Unix microseconds.
package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/apilens/apilens"
)

// Options configure a DB. URL is required; zero values of the rest mean
// their defaults.
type Options struct {
	// URL is a go-sql-driver DSN (user:password@tcp(host:3306)/db) or a
	// URL (mysql://user:password@host:3306/db).
	URL string
	// User and Password override those of the URL when not empty.
	User     string
	Password string
	// MaxConns bounds the pool; 0 means 10.
	MaxConns int
	// IdleTimeout closes connections idle for longer; 0 means a minute.
	// (database/sql keeps no minimum of idle connections, only a maximum,
	// which is MaxConns so that a busy pool keeps its connections.)
	IdleTimeout time.Duration
	// ValidationQuery is what Ping runs; "" means "SELECT 1".
	ValidationQuery string
	// ValidationTimeout bounds Ping, and a new connection's attempt to
	// connect; 0 means 5 seconds.
	ValidationTimeout time.Duration
	// Logger receives migration and collision messages; nil discards them.
	Logger *slog.Logger
}

// DB is an apilens.Store in a MySQL or MariaDB database. It is safe for
// concurrent use.
type DB struct {
	sql    *sql.DB
	name   string // host:port/database, for messages (never the password)
	logger *slog.Logger
	opts   Options
}

var _ apilens.Store = (*DB)(nil)

// config parses opts into a driver configuration and returns it with the
// name messages use for the database.
func config(opts Options) (*mysql.Config, string, error) {
	if opts.URL == "" {
		return nil, "", errors.New("open mysql: no database URL")
	}
	dsn := opts.URL
	if strings.HasPrefix(dsn, "mysql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			// url.Parse quotes the URL, password included: say less.
			return nil, "", errors.New("open mysql: the URL does not parse as mysql://user:password@host:port/database")
		}
		host := u.Host
		if u.Port() == "" {
			host += ":3306"
		}
		cred := u.User.Username()
		if p, ok := u.User.Password(); ok {
			cred += ":" + p
		}
		dsn = cred + "@tcp(" + host + ")" + u.Path
		if u.RawQuery != "" {
			dsn += "?" + u.RawQuery
		}
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, "", fmt.Errorf("open mysql: the DSN does not parse (want user:password@tcp(host:port)/database): %w", err)
	}
	if opts.User != "" {
		cfg.User = opts.User
	}
	if opts.Password != "" {
		cfg.Passwd = opts.Password
	}
	name := cfg.Addr + "/" + cfg.DBName
	if cfg.DBName == "" {
		return nil, "", fmt.Errorf("open mysql %s: the URL names no database", cfg.Addr)
	}
	// utf8mb4 on the connection: the tables' collation then decides every
	// comparison (a column's collation outranks a literal's).
	cfg.Collation = "utf8mb4_bin"
	// Arguments interpolated by the client: one round trip per statement
	// instead of prepare, execute and close.
	cfg.InterpolateParams = true
	timeout := opts.ValidationTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = timeout
	}
	return cfg, name, nil
}

// connect returns a pool for cfg, configured from opts.
func connect(cfg *mysql.Config, opts Options) (*sql.DB, error) {
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	n := 10
	if opts.MaxConns > 0 {
		n = opts.MaxConns
	}
	idle := time.Minute
	if opts.IdleTimeout > 0 {
		idle = opts.IdleTimeout
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(idle)
	return db, nil
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
	db.logger = db.logger.With("component", "mysql")
	if db.opts.ValidationQuery == "" {
		db.opts.ValidationQuery = "SELECT 1"
	}
	if db.opts.ValidationTimeout <= 0 {
		db.opts.ValidationTimeout = 5 * time.Second
	}
	if db.sql, err = connect(cfg, opts); err != nil {
		return nil, fmt.Errorf("open mysql %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			db.sql.Close()
		}
	}()
	if err := db.validate(ctx); err != nil {
		return nil, fmt.Errorf("open mysql %s: %w", name, err)
	}
	if err := db.migrate(ctx); err != nil {
		return nil, fmt.Errorf("open mysql %s: %w", name, err)
	}
	return db, nil
}

// Ping runs the validation query, bounded by the validation timeout.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.validate(ctx); err != nil {
		return fmt.Errorf("ping mysql %s: %w", db.name, err)
	}
	return nil
}

func (db *DB) validate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, db.opts.ValidationTimeout)
	defer cancel()
	_, err := db.sql.ExecContext(ctx, db.opts.ValidationQuery)
	return err
}

// Close closes the pool.
func (db *DB) Close() error {
	if err := db.sql.Close(); err != nil {
		return fmt.Errorf("close mysql %s: %w", db.name, err)
	}
	return nil
}

// inTx runs fn in a transaction, committed if fn returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
