package postgres

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/apilens/apilens/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one numbered step of the schema, applied in one transaction.
type Migration = sqlstore.Migration

// Migrations returns every migration this binary knows, in order.
func Migrations() ([]Migration, error) {
	return sqlstore.ReadMigrations(migrationFiles, "migrations")
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version integer NOT NULL PRIMARY KEY,
	name    text    NOT NULL,
	applied bigint  NOT NULL -- Unix seconds
)`

// querier is what reading the applied versions needs: a pool, a
// connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func appliedVersions(ctx context.Context, q querier) (map[int]bool, error) {
	rows, err := q.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, err
	}
	applied := map[int]bool{}
	for _, v := range vs {
		applied[int(v)] = true
	}
	return applied, nil
}

// checkKnown refuses a database that a newer binary has migrated: this one
// would misread a schema it does not know.
func checkKnown(applied map[int]bool, all []Migration) error {
	for v := range applied {
		if v > len(all) {
			return fmt.Errorf("database schema version %d is newer than this binary knows (%d)", v, len(all))
		}
	}
	return nil
}

// PendingMigrations returns the migrations that Open would apply to the
// database opts names, without changing it.
func PendingMigrations(ctx context.Context, opts Options) ([]Migration, error) {
	all, err := Migrations()
	if err != nil {
		return nil, err
	}
	cfg, name, err := config(opts)
	if err != nil {
		return nil, err
	}
	cfg.MinIdleConns, cfg.MaxConns = 0, 1
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pending migrations of postgres %s: %w", name, err)
	}
	defer pool.Close()
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, fmt.Errorf("pending migrations of postgres %s: %w", name, err)
	}
	if !exists {
		return all, nil
	}
	applied, err := appliedVersions(ctx, pool)
	if err != nil {
		return nil, fmt.Errorf("pending migrations of postgres %s: %w", name, err)
	}
	if err := checkKnown(applied, all); err != nil {
		return nil, fmt.Errorf("pending migrations of postgres %s: %w", name, err)
	}
	var pending []Migration
	for _, m := range all {
		if !applied[m.Version] {
			pending = append(pending, m)
		}
	}
	return pending, nil
}

// migrate applies the pending migrations, each in a transaction that also
// records it, holding a session advisory lock so that processes starting
// together apply each migration once.
func (db *DB) migrate(ctx context.Context) error {
	all, err := Migrations()
	if err != nil {
		return err
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrateLock)); err != nil {
		return fmt.Errorf("lock for migrations: %w", err)
	}
	defer func() {
		// A fresh context: the caller's may be done, and a lock left
		// behind would stall the next process until this connection dies.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, int64(migrateLock)); err != nil {
			conn.Conn().Close(ctx)
		}
	}()
	if _, err := conn.Exec(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	done, err := appliedVersions(ctx, conn)
	if err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	if err := checkKnown(done, all); err != nil {
		return err
	}
	for _, m := range all {
		if done[m.Version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// No arguments: pgx sends the file as one simple query,
			// which may hold several statements.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)`,
				m.Version, m.Name, time.Now().Unix())
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		db.logger.Info("applied migration", "version", m.Version, "name", m.Name)
	}
	return nil
}
