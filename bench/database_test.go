package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// The database benchmarks run BenchmarkIngest's flat-out case and
// BenchmarkSummaryYear with the server on PostgreSQL or MySQL, each in a
// database of its own created for the run and dropped after, and on
// SQLite for comparison. The servers are those the store tests use
// (APILENS_TEST_POSTGRES_URL, APILENS_TEST_MYSQL_URL, by default the local
// ones); without one, its benchmarks skip.

func BenchmarkIngestSQLite(b *testing.B)   { benchIngest(b, 0) }
func BenchmarkIngestPostgres(b *testing.B) { benchIngest(b, 0, postgresEnv(b)...) }
func BenchmarkIngestMySQL(b *testing.B)    { benchIngest(b, 0, mysqlEnv(b)...) }

func BenchmarkSummaryYearPostgres(b *testing.B) { benchSummaryYear(b, postgresEnv(b)...) }
func BenchmarkSummaryYearMySQL(b *testing.B)    { benchSummaryYear(b, mysqlEnv(b)...) }

func randomName() string {
	r := make([]byte, 4)
	rand.Read(r)
	return "apilens_bench_" + hex.EncodeToString(r)
}

// postgresEnv creates a database for one benchmark and returns the
// server's environment to use it.
func postgresEnv(b *testing.B) []string {
	admin := os.Getenv("APILENS_TEST_POSTGRES_URL")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		b.Skipf("no PostgreSQL (%v): set APILENS_TEST_POSTGRES_URL", err)
	}
	defer conn.Close(ctx)
	name := randomName()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, admin); err == nil {
			conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)")
			conn.Close(ctx)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		b.Fatal(err)
	}
	u.Path = "/" + name
	return []string{"APILENS_DATABASE_TYPE=postgres", "APILENS_DATABASE_URL=" + u.String()}
}

// mysqlEnv creates a database for one benchmark and returns the server's
// environment to use it.
func mysqlEnv(b *testing.B) []string {
	dsn := os.Getenv("APILENS_TEST_MYSQL_URL")
	if dsn == "" {
		dsn = "root@tcp(127.0.0.1:3306)/test"
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		b.Fatal(err)
	}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		b.Fatal(err)
	}
	db := sql.OpenDB(c)
	if err := db.Ping(); err != nil {
		db.Close()
		b.Skipf("no MySQL (%v): set APILENS_TEST_MYSQL_URL", err)
	}
	name := randomName()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		db.Exec("DROP DATABASE " + name)
		db.Close()
	})
	cfg.DBName = name
	return []string{"APILENS_DATABASE_TYPE=mysql", "APILENS_DATABASE_URL=" + cfg.FormatDSN()}
}
