// Package sqlite is the SQLite backend of apilens: an apilens.Store in one
// database file, through modernc.org/sqlite (pure Go, no cgo).
//
// # Connections
//
// A DB holds two pools on the same file: a writer with a single connection,
// through which every write goes (flushes, purges, users), and a read-only
// pool for queries. The file is in WAL mode, so readers see the last
// committed state and never wait behind a flush. (An in-memory database,
// for tests and demos, has the one connection only.) Writes run with
// synchronous=FULL: a flush records the spool position that lets the spool
// delete its data, so a committed flush must survive a power loss, not just
// a crash of the process. Write transactions begin IMMEDIATE so two
// processes on one file queue on busy_timeout instead of failing on a lock
// upgrade.
//
// # Schema
//
// The schema is created and upgraded by the numbered SQL files embedded
// from migrations/, applied in order at Open, each in its own transaction,
// and recorded in schema_migrations. PendingMigrations lists what Open
// would apply, for `apilens migrate --dry-run`.
//
// Rollup rows are keyed by (family, gran, bucket, key_hash) in a WITHOUT
// ROWID table. key_hash is a 64-bit FNV-1a hash of the dimension values
// (each prefixed by its length, so no choice of separator is ambiguous).
// The key stays narrow however long the values are (a 1 KB resource path
// costs nothing in the key), and the rows live in the primary-key B-tree
// itself, so updating a row touches that one B-tree. Dimension
// values are compared with SQLite's default BINARY collation: "Api" and
// "API" are different rows. Queries filter on the value columns d0..d6,
// never on the hash; an index on (family, gran, d0, bucket) serves filters
// on the first dimension.
//
// A hash collision cannot merge two series: the upsert only updates a
// stored row whose values are equal to the new row's, and a row the upsert
// skipped is placed at the next free hash (linear probing), which the
// upsert of a later flush finds the same way. Collisions are logged.
//
// A flush is one transaction of multi-row additive upserts: counters are
// added with `requests = requests + excluded.requests`, and the two latency
// sketches are merged in place by the SQL function apilens_sketch_merge,
// which this package registers with the driver and which calls
// sketch.MergeEncoded. Merging inside the statement avoids reading every
// row back into Go and writing it again, so a flush costs one statement
// per chunk of rows whether its keys are new or not. Rows go in
// primary-key order, so the rows of one statement share B-tree pages.
//
// Times are stored as integers: buckets in Unix seconds, every other time
// in Unix microseconds.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/store/internal/sqlstore"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Options configure a DB. The zero value is usable.
type Options struct {
	// Logger receives migration, flush and collision messages; nil
	// discards them.
	Logger *slog.Logger
	// ReadConns bounds the read-only pool; 0 means max(4, GOMAXPROCS).
	ReadConns int
	// BusyTimeoutMillis is how long a statement waits for a lock held by
	// another process before failing; 0 means 10000.
	BusyTimeoutMillis int
}

// readerLifetime bounds how long a reader connection plans queries with
// statistics older than the last refresh (see optimize).
const readerLifetime = time.Hour

// DB is an apilens.Store in one SQLite database file. It is safe for
// concurrent use.
type DB struct {
	path   string
	logger *slog.Logger
	writer *sql.DB // one connection: every write, in order
	reader *sql.DB // read-only pool for queries

	readConns int

	stmts *statements
	// keyHash computes key_hash; a field so tests can force collisions.
	keyHash func(dims *[apilens.MaxDims]string) int64
}

var _ apilens.Store = (*DB)(nil)

// Open opens the database at path, creating it if needed, and applies the
// pending migrations. The path is a file path, an SQLite URI starting with
// "file:" (to which Open adds its own parameters), or ":memory:". An
// in-memory database (":memory:", or a URI with mode=memory) lives in a
// single connection that serves reads and writes alike, so there queries
// do wait behind flushes; it is meant for tests and demos.
func Open(ctx context.Context, path string, opts Options) (_ *DB, err error) {
	if path == "" {
		return nil, fmt.Errorf("open sqlite database: no path")
	}
	db := &DB{path: path, logger: opts.Logger, keyHash: sqlstore.KeyHash}
	if db.logger == nil {
		db.logger = slog.New(slog.DiscardHandler)
	}
	db.logger = db.logger.With("component", "sqlite")
	defer func() {
		if err != nil {
			db.Close()
		}
	}()

	busy := opts.BusyTimeoutMillis
	if busy <= 0 {
		busy = 10000
	}
	// The driver applies busy_timeout first, then the _pragma list sorted
	// by name, then _journal_mode: page_size precedes the switch to WAL,
	// after which a new file's page size can no longer change. 8 KiB pages
	// keep a rollup row with two latency sketches off overflow pages.
	// Because the sketch merge function may fail, SQLite keeps a statement
	// journal for each upsert; temp_store=MEMORY keeps it off the disk.
	db.writer, err = sql.Open("sqlite", dsn(path,
		fmt.Sprintf("_pragma=busy_timeout(%d)", busy),
		"_pragma=foreign_keys(1)",
		"_pragma=page_size(8192)",
		"_pragma=synchronous(FULL)",
		"_pragma=temp_store(MEMORY)",
		"_pragma=cache_size(-8192)",
		"_pragma=analysis_limit(1000)",
		"_journal_mode=WAL",
		"_txlock=immediate",
	))
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	db.writer.SetMaxOpenConns(1)
	db.writer.SetMaxIdleConns(1)
	db.writer.SetConnMaxLifetime(0)
	db.writer.SetConnMaxIdleTime(0)

	var mode string
	if err := db.writer.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	var file string
	if err := db.writer.QueryRowContext(ctx, "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file); err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	memory := file == ""
	if !memory && !strings.EqualFold(mode, "wal") {
		// A file system without shared memory (some network mounts)
		// refuses WAL; everything still works, but queries then wait
		// behind flushes.
		db.logger.Warn("database is not in WAL mode; queries will wait for flushes", "path", path, "journal_mode", mode)
	}
	if err := db.migrate(ctx); err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	if err := db.optimize(ctx, "PRAGMA optimize=0x10002"); err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}

	if memory {
		// Another connection would open another, empty database.
		db.reader = db.writer
	} else if err := db.openReader(ctx, busy, opts.ReadConns); err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	if db.stmts, err = prepare(ctx, db.writer); err != nil {
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	return db, nil
}

func (db *DB) openReader(ctx context.Context, busy, conns int) (err error) {
	db.reader, err = sql.Open("sqlite", dsn(db.path,
		fmt.Sprintf("_pragma=busy_timeout(%d)", busy),
		"_pragma=query_only(1)",
	))
	if err != nil {
		return err
	}
	db.readConns = conns
	if db.readConns <= 0 {
		db.readConns = max(4, runtime.GOMAXPROCS(0))
	}
	db.reader.SetMaxOpenConns(db.readConns)
	db.reader.SetMaxIdleConns(db.readConns)
	db.reader.SetConnMaxLifetime(readerLifetime)
	return db.reader.PingContext(ctx)
}

// dsn returns the driver's name for the database at path with query
// params. The name is always a URI, so the driver hands it to SQLite as
// one; a file path is escaped where URIs reserve characters.
func dsn(path string, params ...string) string {
	q := strings.Join(params, "&")
	switch {
	case path == ":memory:":
		return "file::memory:?" + q
	case strings.HasPrefix(path, "file:"):
		if strings.Contains(path, "?") {
			return path + "&" + q
		}
		return path + "?" + q
	}
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + esc + "?" + q
}

// Ping checks that both pools reach the database.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.writer.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite database %q: %w", db.path, err)
	}
	if err := db.reader.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite database %q: %w", db.path, err)
	}
	return nil
}

// optimize lets SQLite refresh the query planner's statistics where the
// tables changed much, sampling at most analysis_limit rows per index.
// Without statistics the planner reads a family's whole bucket range by
// primary key even when a filter on d0 would select a few rows by index.
// Open, Purge (the periodic maintenance) and Close run it.
//
// A connection reads the statistics only when it loads the schema, so the
// idle readers are then closed for new ones to read the new statistics;
// readers busy at that moment are replaced within readerLifetime.
func (db *DB) optimize(ctx context.Context, pragma string) error {
	if _, err := db.writer.ExecContext(ctx, pragma); err != nil {
		return fmt.Errorf("refresh planner statistics: %w", err)
	}
	if db.reader != nil && db.reader != db.writer {
		db.reader.SetMaxIdleConns(0)
		db.reader.SetMaxIdleConns(db.readConns)
	}
	return nil
}

// Close closes the database, refreshing the planner statistics first if
// it had opened completely.
func (db *DB) Close() error {
	var errs []error
	if db.stmts != nil {
		if err := db.optimize(context.Background(), "PRAGMA optimize=0x10002"); err != nil {
			db.logger.Warn("close", "err", err)
		}
		errs = append(errs, db.stmts.close())
		db.stmts = nil
	}
	if db.reader != nil && db.reader != db.writer {
		errs = append(errs, db.reader.Close())
	}
	db.reader = nil
	if db.writer != nil {
		errs = append(errs, db.writer.Close())
		db.writer = nil
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close sqlite database %q: %w", db.path, err)
	}
	return nil
}
