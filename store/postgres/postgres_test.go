package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/store/storetest"
)

// The tests run against the server APILENS_TEST_POSTGRES_URL names (by
// default the local one), in a database of their own that they drop at
// the end, each test in a schema of its own.
const defaultTestURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

var testServer struct {
	once  sync.Once
	admin string // the URL of the server's database the tests start from
	url   string // the URL of the tests' own database
	name  string
	err   error
	n     int
	mu    sync.Mutex
}

func TestMain(m *testing.M) {
	code := m.Run()
	if testServer.name != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		conn, err := pgx.Connect(ctx, testServer.admin)
		if err == nil {
			_, err = conn.Exec(ctx, `DROP DATABASE `+testServer.name+` WITH (FORCE)`)
			conn.Close(ctx)
		}
		cancel()
		if err != nil {
			fmt.Fprintf(os.Stderr, "drop test database %s: %v\n", testServer.name, err)
		}
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// needServer connects to the server once per run and creates the tests'
// database. Without a server, the test skips, unless CI=true, where it
// fails.
func needServer(t testing.TB) {
	t.Helper()
	s := &testServer
	s.once.Do(func() {
		s.admin = os.Getenv("APILENS_TEST_POSTGRES_URL")
		if s.admin == "" {
			s.admin = defaultTestURL
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, s.admin)
		if err != nil {
			s.err = err
			return
		}
		defer conn.Close(ctx)
		name := "apilens_test_" + randomHex()
		if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
			s.err = err
			return
		}
		u, err := url.Parse(s.admin)
		if err != nil {
			s.err = fmt.Errorf("APILENS_TEST_POSTGRES_URL must be a URL: %w", err)
			return
		}
		u.Path = "/" + name
		s.name, s.url = name, u.String()
	})
	if s.err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s: %v (CI=true: the PostgreSQL tests must run)", redact(s.admin), s.err)
		}
		t.Skipf("no PostgreSQL at %s (%v): start one, or set APILENS_TEST_POSTGRES_URL to a server where the user may create databases", redact(s.admin), s.err)
	}
}

// testURL returns the URL of a new, empty schema in the tests' database.
func testURL(t testing.TB) string {
	t.Helper()
	s := &testServer
	needServer(t)
	s.mu.Lock()
	s.n++
	schema := fmt.Sprintf("t%d", s.n)
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(s.url)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func redact(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Redacted()
	}
	return "(the URL)"
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

// TestMigrateTogether: processes that open a new database at once each
// find the schema complete, and it is migrated once.
func TestMigrateTogether(t *testing.T) {
	u := testURL(t)
	ctx := t.Context()
	pending, err := PendingMigrations(ctx, Options{URL: u})
	all, _ := Migrations()
	if err != nil || len(pending) != len(all) {
		t.Fatalf("PendingMigrations of an empty schema: %d, %v; want all %d", len(pending), err, len(all))
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
}

// TestOpenErrors: a database that cannot be reached is an error at Open
// that names it, without the password.
func TestOpenErrors(t *testing.T) {
	testURL(t) // skip without a server, like the rest
	for _, tc := range []struct{ url, want string }{
		{"postgres://apilens:s3cret@127.0.0.1:1/apilens?connect_timeout=2", "127.0.0.1:1/apilens"},
		{"postgres://apilens:s3cret@db.invalid:5432/apilens?connect_timeout=2", "db.invalid:5432/apilens"},
		{"postgres://apilens:s3cret@127.0.0.1:5432/apilens?sslmode=bogus", "sslmode"},
	} {
		_, err := Open(t.Context(), Options{URL: tc.url, ValidationTimeout: 3 * time.Second})
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%s): %v; want an error naming %q, without the password", redact(tc.url), err, tc.want)
		}
	}
}
