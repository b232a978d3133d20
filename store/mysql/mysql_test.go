package mysql

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"go.uber.org/goleak"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/store/storetest"
)

// The tests run against the server APILENS_TEST_MYSQL_URL names (by
// default the local one), each test in a database of its own that is
// dropped at the end.
const defaultTestURL = "root@tcp(127.0.0.1:3306)/test"

var testServer struct {
	once   sync.Once
	admin  *sql.DB
	cfg    *mysql.Config
	prefix string
	err    error
	mu     sync.Mutex
	dbs    []string
}

func TestMain(m *testing.M) {
	code := m.Run()
	s := &testServer
	if s.admin != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		for _, name := range s.dbs {
			if _, err := s.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
				fmt.Fprintf(os.Stderr, "drop test database %s: %v\n", name, err)
			}
		}
		cancel()
		s.admin.Close()
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// needServer connects to the server once per run. Without a server, the
// test skips, unless CI=true, where it fails.
func needServer(t testing.TB) {
	t.Helper()
	s := &testServer
	dsn := os.Getenv("APILENS_TEST_MYSQL_URL")
	if dsn == "" {
		dsn = defaultTestURL
	}
	s.once.Do(func() {
		cfg, _, err := config(Options{URL: dsn})
		if err != nil {
			s.err = err
			return
		}
		db, err := connect(cfg, Options{})
		if err != nil {
			s.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			s.err = err
			return
		}
		b := make([]byte, 4)
		rand.Read(b)
		s.admin, s.cfg, s.prefix = db, cfg, "apilens_test_"+hex.EncodeToString(b)
	})
	if s.err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("MySQL at %s: %v (CI=true: the MySQL tests must run)", dsn, s.err)
		}
		t.Skipf("no MySQL or MariaDB at %s (%v): start one, or set APILENS_TEST_MYSQL_URL to a DSN (user:password@tcp(host:3306)/db) of a user who may create databases", dsn, s.err)
	}
}

// testURL returns the DSN of a new, empty database.
func testURL(t testing.TB) string {
	t.Helper()
	s := &testServer
	needServer(t)
	s.mu.Lock()
	name := fmt.Sprintf("%s_%d", s.prefix, len(s.dbs)+1)
	s.dbs = append(s.dbs, name)
	s.mu.Unlock()
	if _, err := s.admin.ExecContext(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	cfg := s.cfg.Clone()
	cfg.DBName = name
	return cfg.FormatDSN()
}

func open(t testing.TB, u string) *DB {
	t.Helper()
	db, err := Open(context.Background(), Options{URL: u})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

func TestConformance(t *testing.T) {
	needServer(t)
	storetest.RunAll(t, func(t *testing.T) apilens.Store { return open(t, testURL(t)) })
}

var base = time.Date(2025, 3, 14, 15, 9, 0, 0, time.UTC)

func apiRow(name string, requests int64) apilens.RollupRow {
	r := apilens.RollupRow{Family: apilens.FamilyAPI, Gran: apilens.Minute, Bucket: base.Unix()}
	r.Dims[0], r.Dims[1] = name, "v1"
	r.Requests = requests
	return r
}

// TestConcurrentWriters: two pools (two processes, as far as the database
// can tell) flushing the same keys at once add up every delta.
func TestConcurrentWriters(t *testing.T) {
	u := testURL(t)
	a, b := open(t, u), open(t, u)
	defer a.Close()
	defer b.Close()
	const flushes = 20
	var wg sync.WaitGroup
	for w, db := range []*DB{a, b} {
		wg.Go(func() {
			for i := range flushes {
				rows := []apilens.RollupRow{apiRow("shared", 1), apiRow(fmt.Sprintf("own%d-%d", w, i), 1), apiRow("Shared", 2)}
				if err := db.ApplyFlush(t.Context(), &apilens.Flush{Stream: fmt.Sprintf("s%d", w), Offset: int64(i + 1), Rows: rows}); err != nil {
					t.Errorf("writer %d flush %d: %v", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	got := map[string]int64{}
	err := a.QueryRollups(t.Context(), apilens.RollupQuery{Family: apilens.FamilyAPI, Gran: apilens.Minute, From: 0, To: 1 << 40},
		func(r *apilens.RollupRow) error { got[r.Dims[0]] += r.Requests; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if got["shared"] != 2*flushes || got["Shared"] != 4*flushes || len(got) != 2+2*flushes {
		t.Errorf("after %d flushes from each of two writers: shared %d, Shared %d, %d series; want %d, %d, %d",
			flushes, got["shared"], got["Shared"], len(got), 2*flushes, 4*flushes, 2+2*flushes)
	}
}

// TestTrailingSpace: with a NO PAD collation, "a" and "a " are two keys
// (a PAD SPACE collation would compare them equal).
func TestTrailingSpace(t *testing.T) {
	db := open(t, testURL(t))
	defer db.Close()
	if err := db.ApplyFlush(t.Context(), &apilens.Flush{Stream: "events", Offset: 1,
		Rows: []apilens.RollupRow{apiRow("a", 1), apiRow("a ", 2)}}); err != nil {
		t.Fatal(err)
	}
	q := apilens.RollupQuery{Family: apilens.FamilyAPI, Gran: apilens.Minute, From: 0, To: 1 << 40, Filter: map[int]string{0: "a"}}
	var n, requests int64
	if err := db.QueryRollups(t.Context(), q, func(r *apilens.RollupRow) error { n++; requests += r.Requests; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 1 || requests != 1 {
		t.Errorf(`filter on "a": %d rows with %d requests; want the one "a" row (1 request)`, n, requests)
	}
}

// TestMigrateTogether: processes that open a new database at once each
// find the schema complete, and it is migrated once; running a migration
// again (as after a crash halfway) changes nothing.
func TestMigrateTogether(t *testing.T) {
	u := testURL(t)
	ctx := t.Context()
	pending, err := PendingMigrations(ctx, Options{URL: u})
	all, _ := Migrations()
	if err != nil || len(pending) != len(all) {
		t.Fatalf("PendingMigrations of an empty database: %d, %v; want all %d", len(pending), err, len(all))
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			db, err := Open(ctx, Options{URL: u})
			if err != nil {
				t.Errorf("Open: %v", err)
				return
			}
			defer db.Close()
			if err := db.ApplyFlush(ctx, &apilens.Flush{Stream: "events", Offset: 1, Rows: []apilens.RollupRow{apiRow("a", 1)}}); err != nil {
				t.Errorf("ApplyFlush: %v", err)
			}
		})
	}
	wg.Wait()
	if pending, err := PendingMigrations(ctx, Options{URL: u}); err != nil || len(pending) != 0 {
		t.Errorf("PendingMigrations after Open: %v, %v; want none", pending, err)
	}
	db := open(t, u)
	defer db.Close()
	for _, m := range all {
		for _, st := range statements(strings.ReplaceAll(m.SQL, "{{collation}}", "utf8mb4_bin")) {
			if _, err := db.sql.ExecContext(ctx, st); err != nil {
				t.Errorf("migration %d again: %v\n%s", m.Version, err, st)
			}
		}
	}
}

// TestOpenErrors: a database that cannot be reached is an error at Open
// that names it, without the password.
func TestOpenErrors(t *testing.T) {
	testURL(t) // skip without a server, like the rest
	for _, tc := range []struct{ url, want string }{
		{"apilens:s3cret@tcp(127.0.0.1:1)/apilens", "127.0.0.1:1/apilens"},
		{"mysql://apilens:s3cret@db.invalid/apilens", "db.invalid:3306/apilens"},
		{"apilens:s3cret@tcp(127.0.0.1:3306)", "DSN"},
		{"mysql://apilens:s3cret@127.0.0.1:3306/", "names no database"},
	} {
		_, err := Open(t.Context(), Options{URL: tc.url, ValidationTimeout: 3 * time.Second})
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q): %v; want an error naming %q, without the password", tc.want, err, tc.want)
		}
	}
}
