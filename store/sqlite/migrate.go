package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

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
	version INTEGER NOT NULL PRIMARY KEY,
	name    TEXT    NOT NULL,
	applied INTEGER NOT NULL -- Unix seconds
)`

// PendingMigrations returns the migrations that Open would apply to the
// database at path, without changing or creating it: all of them when the
// file does not exist yet.
func PendingMigrations(ctx context.Context, dbPath string) ([]Migration, error) {
	all, err := Migrations()
	if err != nil {
		return nil, err
	}
	params := []string{"_pragma=busy_timeout(10000)", "_pragma=query_only(1)"}
	switch {
	case dbPath == ":memory:" || strings.HasPrefix(dbPath, "file:") && strings.Contains(dbPath, "mode=memory"):
		return all, nil
	case !strings.HasPrefix(dbPath, "file:"):
		if _, err := os.Stat(dbPath); errors.Is(err, fs.ErrNotExist) {
			return all, nil
		} else if err != nil {
			return nil, fmt.Errorf("pending migrations of %q: %w", dbPath, err)
		}
		// Read-only, so that a typo cannot leave an empty file behind.
		params = append(params, "mode=ro")
	}
	db, err := sql.Open("sqlite", dsn(dbPath, params...))
	if err != nil {
		return nil, fmt.Errorf("pending migrations of %q: %w", dbPath, err)
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n)
	if err != nil {
		return nil, fmt.Errorf("pending migrations of %q: %w", dbPath, err)
	}
	if n == 0 {
		return all, nil
	}
	applied, err := appliedVersions(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("pending migrations of %q: %w", dbPath, err)
	}
	if err := checkKnown(applied, all); err != nil {
		return nil, fmt.Errorf("pending migrations of %q: %w", dbPath, err)
	}
	var pending []Migration
	for _, m := range all {
		if !applied[m.Version] {
			pending = append(pending, m)
		}
	}
	return pending, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func appliedVersions(ctx context.Context, q querier) (map[int]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[v] = true
	}
	return applied, rows.Err()
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

// migrate applies the pending migrations, each in a transaction that also
// records it. The writer's transactions begin IMMEDIATE, so two processes
// opening a new file at once take turns and the second finds the work done.
func (db *DB) migrate(ctx context.Context) error {
	all, err := Migrations()
	if err != nil {
		return err
	}
	if _, err := db.writer.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range all {
		applied, err := db.applyMigration(ctx, m, all)
		if err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if applied {
			db.logger.Info("applied migration", "version", m.Version, "name", m.Name)
		}
	}
	return nil
}

func (db *DB) applyMigration(ctx context.Context, m Migration, all []Migration) (applied bool, err error) {
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	done, err := appliedVersions(ctx, tx)
	if err != nil {
		return false, err
	}
	if err := checkKnown(done, all); err != nil {
		return false, err
	}
	if done[m.Version] {
		return false, tx.Rollback()
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().Unix()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
