package mysql

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apilens/apilens/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one numbered step of the schema: idempotent statements,
// recorded once they all succeeded.
type Migration = sqlstore.Migration

// Migrations returns every migration this binary knows, in order.
func Migrations() ([]Migration, error) {
	return sqlstore.ReadMigrations(migrationFiles, "migrations")
}

// statements splits a migration into its statements: each ends with a
// line that ends with ";" (the driver runs one statement at a time).
func statements(sqlText string) []string {
	var out []string
	var cur strings.Builder
	for line := range strings.Lines(sqlText) {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") && cur.Len() == 0 {
			continue
		}
		cur.WriteString(line)
		if strings.HasSuffix(t, ";") && !strings.HasPrefix(t, "--") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INT          NOT NULL PRIMARY KEY,
	name    VARCHAR(255) NOT NULL,
	applied BIGINT       NOT NULL -- Unix seconds
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`

// collation returns the binary utf8mb4 collation the tables use: NO PAD
// where the server has one, so trailing spaces are significant.
func collation(ctx context.Context, db *sql.DB) (string, error) {
	for _, c := range []string{"utf8mb4_0900_bin", "utf8mb4_nopad_bin"} {
		var n int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.COLLATIONS WHERE COLLATION_NAME = ?`, c).Scan(&n)
		if err != nil {
			return "", fmt.Errorf("list collations: %w", err)
		}
		if n > 0 {
			return c, nil
		}
	}
	return "utf8mb4_bin", nil
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
	db, err := connect(cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("pending migrations of mysql %s: %w", name, err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'schema_migrations'`).Scan(&n); err != nil {
		return nil, fmt.Errorf("pending migrations of mysql %s: %w", name, err)
	}
	if n == 0 {
		return all, nil
	}
	applied, err := appliedVersions(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("pending migrations of mysql %s: %w", name, err)
	}
	if err := checkKnown(applied, all); err != nil {
		return nil, fmt.Errorf("pending migrations of mysql %s: %w", name, err)
	}
	var pending []Migration
	for _, m := range all {
		if !applied[m.Version] {
			pending = append(pending, m)
		}
	}
	return pending, nil
}

// migrateLockTimeout is how long a process waits for another's migrations.
const migrateLockTimeout = 300 // seconds

// migrate applies the pending migrations while holding a named lock, so
// processes starting together apply each once.
func (db *DB) migrate(ctx context.Context) error {
	all, err := Migrations()
	if err != nil {
		return err
	}
	coll, err := collation(ctx, db.sql)
	if err != nil {
		return err
	}
	// GET_LOCK belongs to a session: hold one connection throughout.
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// Named locks are server-wide: name it after the database (hashed, as
	// lock names are at most 64 characters).
	const lock = `CONCAT('apilens_migrate:', MD5(DATABASE()))`
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(`+lock+`, ?)`, migrateLockTimeout).Scan(&got); err != nil {
		return fmt.Errorf("lock for migrations: %w", err)
	}
	if got.Int64 != 1 {
		return errors.New("lock for migrations: another process held it for 5 minutes")
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.ExecContext(ctx, `SELECT RELEASE_LOCK(`+lock+`)`)
	}()
	if _, err := conn.ExecContext(ctx, createMigrationsTable); err != nil {
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
		for i, st := range statements(strings.ReplaceAll(m.SQL, "{{collation}}", coll)) {
			if _, err := conn.ExecContext(ctx, st); err != nil {
				return fmt.Errorf("migration %04d_%s, statement %d: %w", m.Version, m.Name, i+1, err)
			}
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)`,
			m.Version, m.Name, time.Now().Unix()); err != nil {
			return fmt.Errorf("record migration %04d_%s: %w", m.Version, m.Name, err)
		}
		db.logger.Info("applied migration", "version", m.Version, "name", m.Name, "collation", coll)
	}
	return nil
}
