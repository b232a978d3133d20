package sqlite

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/sketch"
	"github.com/apilens/apilens/store/internal/sqlstore"
	"github.com/apilens/apilens/store/storetest"
	"go.uber.org/goleak"
)

// TestMain checks that Close stops every goroutine the pools started.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openAt(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	return db
}

func openTemp(t testing.TB) *DB {
	t.Helper()
	db := openAt(t, filepath.Join(t.TempDir(), "apilens.db"))
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.RunAll(t, func(t *testing.T) apilens.Store {
		return openAt(t, filepath.Join(t.TempDir(), "apilens.db"))
	})
}

var base = time.Date(2025, 3, 14, 15, 9, 0, 0, time.UTC)

func apiRow(name string, requests int64) apilens.RollupRow {
	r := apilens.RollupRow{Family: apilens.FamilyAPI, Gran: apilens.Minute, Bucket: base.Unix()}
	r.Dims[0], r.Dims[1] = name, "v1"
	r.Requests = requests
	return r
}

func requestsByAPI(t *testing.T, db *DB) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	err := db.QueryRollups(t.Context(), apilens.RollupQuery{Family: apilens.FamilyAPI, Gran: apilens.Minute, From: 0, To: 1 << 40},
		func(r *apilens.RollupRow) error {
			if _, dup := got[r.Dims[0]]; dup {
				return fmt.Errorf("api %q has two rows", r.Dims[0])
			}
			got[r.Dims[0]] = r.Requests
			return nil
		})
	if err != nil {
		t.Fatalf("QueryRollups: %v", err)
	}
	return got
}

func TestMigrations(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatalf("Migrations: %v", err)
	}
	if len(ms) == 0 || ms[0].Version != 1 || ms[0].Name != "initial" || !strings.Contains(ms[0].SQL, "CREATE TABLE rollups") {
		t.Fatalf("Migrations() = %+v, want 0001_initial first", ms)
	}
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "apilens.db")
	pending, err := PendingMigrations(ctx, path)
	if err != nil || len(pending) != len(ms) {
		t.Fatalf("PendingMigrations of a missing file = %d, %v; want all %d", len(pending), err, len(ms))
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("PendingMigrations created the file (stat: %v)", err)
	}

	db := openAt(t, path)
	var n int
	if err := db.reader.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE applied > 0`).Scan(&n); err != nil || n != len(ms) {
		t.Errorf("schema_migrations has %d rows (%v), want %d", n, err, len(ms))
	}
	// With the database open (WAL and shared memory present) and closed.
	for _, state := range []string{"open", "closed"} {
		pending, err = PendingMigrations(ctx, path)
		if err != nil || len(pending) != 0 {
			t.Errorf("PendingMigrations of a migrated, %s database = %+v, %v; want none", state, pending, err)
		}
		db.Close()
	}

	// Opening again applies nothing and keeps the record.
	db = openAt(t, path)
	if err := db.reader.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(ms) {
		t.Errorf("after reopening, schema_migrations has %d rows (%v), want %d", n, err, len(ms))
	}

	// A schema from a newer binary is refused.
	if _, err := db.writer.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := Open(ctx, path, Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a newer schema: err %v, want one saying it is newer", err)
		if db != nil {
			db.Close()
		}
	}
	if _, err := PendingMigrations(ctx, path); err == nil {
		t.Error("PendingMigrations of a newer schema succeeded")
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "apilens.db")
	db := openAt(t, path)
	if err := db.ApplyFlush(t.Context(), &apilens.Flush{Stream: "events", Offset: 42, Rows: []apilens.RollupRow{apiRow("a", 3)}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	db = openAt(t, path)
	defer db.Close()
	if got := requestsByAPI(t, db); got["a"] != 3 || len(got) != 1 {
		t.Errorf("after reopening: %v, want a=3", got)
	}
	if off, err := db.StreamOffset(t.Context(), "events"); err != nil || off != 42 {
		t.Errorf("after reopening: offset %d, %v; want 42", off, err)
	}
}

func TestConnectionSettings(t *testing.T) {
	db := openTemp(t)
	ctx := t.Context()
	for _, c := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"page_size", "8192"},
	} {
		var got string
		if err := db.writer.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil || got != c.want {
			t.Errorf("writer PRAGMA %s = %q, %v; want %q", c.pragma, got, err, c.want)
		}
	}
	if _, err := db.reader.ExecContext(ctx, `DELETE FROM users`); err == nil {
		t.Error("the read-only pool accepted a write")
	}
}

// TestQueriesDoNotWaitForWriter holds the write lock with an open
// transaction and checks that a query still answers at once.
func TestQueriesDoNotWaitForWriter(t *testing.T) {
	db := openTemp(t)
	ctx := t.Context()
	if err := db.ApplyFlush(ctx, &apilens.Flush{Stream: "events", Offset: 1, Rows: []apilens.RollupRow{apiRow("a", 1)}}); err != nil {
		t.Fatal(err)
	}
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE rollups SET requests = 100`); err != nil {
		t.Fatal(err)
	}
	qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	start := time.Now()
	var requests int64
	err = db.QueryRollups(qctx, apilens.RollupQuery{Family: apilens.FamilyAPI, Gran: apilens.Minute, From: 0, To: 1 << 40},
		func(r *apilens.RollupRow) error { requests = r.Requests; return nil })
	if err != nil || requests != 1 {
		t.Errorf("query during a write transaction: requests %d, %v; want the committed 1", requests, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("query waited %v for the writer", d)
	}
}

// TestFilterUsesIndex checks that once Purge has refreshed the planner's
// statistics, a filter on the first dimension reads the d0 index rather
// than the family's whole bucket range.
func TestFilterUsesIndex(t *testing.T) {
	db := openTemp(t)
	ctx := t.Context()
	var rows []apilens.RollupRow
	for m := range 60 {
		for a := range 20 {
			r := apiRow(fmt.Sprintf("api%d", a), 1)
			r.Bucket = base.Add(time.Duration(m) * time.Minute).Unix()
			rows = append(rows, r)
		}
	}
	if err := db.ApplyFlush(ctx, &apilens.Flush{Stream: "events", Rows: rows}); err != nil {
		t.Fatal(err)
	}
	// A reader that has loaded the schema (and no statistics) already.
	if _, err := db.StreamOffset(ctx, "events"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Purge(ctx, base, nil, time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	var id, parent, notused int
	var plan string
	err := db.reader.QueryRowContext(ctx, `EXPLAIN QUERY PLAN SELECT * FROM rollups
		WHERE family = 2 AND gran = 1 AND bucket >= 0 AND bucket < 10000000000 AND d0 = 'api3'`).Scan(&id, &parent, &notused, &plan)
	if err != nil || !strings.Contains(plan, "rollups_d0") {
		t.Errorf("plan %q (%v), want the rollups_d0 index", plan, err)
	}
}

func TestMergeFunction(t *testing.T) {
	db := openTemp(t)
	a := sketch.New()
	a.Add(10)
	a.Add(20)
	b := sketch.New()
	b.Add(1000)
	ea, eb := a.Encode(), b.Encode()
	for _, c := range []struct {
		name  string
		x, y  any
		count float64 // -1: NULL result
	}{
		{"NULL, NULL", nil, nil, -1},
		{"empty, empty", []byte{}, []byte{}, -1},
		{"empty, NULL", []byte{}, nil, -1},
		{"sketch, NULL", ea, nil, 2},
		{"NULL, sketch", nil, eb, 1},
		{"empty, sketch", []byte{}, eb, 1},
		{"sketch, empty", ea, []byte{}, 2},
		{"sketch, sketch", ea, eb, 3},
	} {
		var got []byte
		if err := db.reader.QueryRowContext(t.Context(), `SELECT `+mergeFunc+`(?, ?)`, c.x, c.y).Scan(&got); err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if c.count < 0 {
			if got != nil {
				t.Errorf("%s: got %x, want NULL", c.name, got)
			}
			continue
		}
		s, err := sketch.Decode(got)
		if err != nil || s.Count() != c.count {
			t.Errorf("%s: decoded %v values (%v), want %v", c.name, s.Count(), err, c.count)
		}
	}
	for _, bad := range []any{[]byte("not a sketch"), "text", int64(7)} {
		var got []byte
		if err := db.reader.QueryRowContext(t.Context(), `SELECT `+mergeFunc+`(?, ?)`, ea, bad).Scan(&got); err == nil {
			t.Errorf("merge with %v (%T) succeeded", bad, bad)
		}
	}
}

// TestKeyHashStable pins the stored hash: changing it would split every
// stored series in two.
func TestKeyHashStable(t *testing.T) {
	for _, c := range []struct {
		dims [apilens.MaxDims]string
		want int64
	}{
		{[apilens.MaxDims]string{}, 8614007388540201639},
		{[apilens.MaxDims]string{"PizzaShack", "1.0.0", "carbon.super"}, 9030081714708331847},
	} {
		if got := sqlstore.KeyHash(&c.dims); got != c.want {
			t.Errorf("KeyHash(%q) = %d, want %d", c.dims, got, c.want)
		}
	}
	// It is hash/fnv's FNV-1a over uvarint lengths and values, including
	// lengths that take more than one uvarint byte.
	for _, dims := range [][apilens.MaxDims]string{
		{strings.Repeat("r", 200), "GET", "日本語", "", "", "", "x"},
		{strings.Repeat("z", 1<<14+3)},
	} {
		ref := fnv.New64a()
		for _, d := range dims {
			ref.Write(binary.AppendUvarint(nil, uint64(len(d))))
			ref.Write([]byte(d))
		}
		if got, want := sqlstore.KeyHash(&dims), int64(ref.Sum64()); got != want {
			t.Errorf("KeyHash = %d, FNV-1a reference %d", got, want)
		}
	}
	// Length prefixes keep values that join to the same string apart.
	x := [apilens.MaxDims]string{"a\x00", "b"}
	y := [apilens.MaxDims]string{"a", "\x00b"}
	if sqlstore.KeyHash(&x) == sqlstore.KeyHash(&y) {
		t.Error("KeyHash does not tell a\\x00|b from a|\\x00b")
	}
}

// TestHashCollisions forces every tuple onto one hash: rows must still
// neither merge nor get lost, within a flush and across flushes.
func TestHashCollisions(t *testing.T) {
	db := openTemp(t)
	db.keyHash = func(*[apilens.MaxDims]string) int64 { return 42 }
	ctx := t.Context()
	var rows []apilens.RollupRow
	for i := range 150 { // more than one chunk
		rows = append(rows, apiRow(fmt.Sprintf("api%d", i), int64(i)))
	}
	rows = append(rows, apiRow("api7", 1000)) // a repeat within the flush
	for i := range 2 {
		if err := db.ApplyFlush(ctx, &apilens.Flush{Stream: "events", Offset: int64(i), Rows: rows}); err != nil {
			t.Fatalf("ApplyFlush %d: %v", i, err)
		}
	}
	got := requestsByAPI(t, db)
	if len(got) != 150 {
		t.Errorf("got %d rows, want 150", len(got))
	}
	for i := range 150 {
		want := 2 * int64(i)
		if i == 7 {
			want += 2000
		}
		if name := fmt.Sprintf("api%d", i); got[name] != want {
			t.Errorf("%s: %d requests, want %d", name, got[name], want)
		}
	}
}

func TestPathWithURICharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a?b#c%20d&e=f", "apilens.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	db := openAt(t, path)
	defer db.Close()
	if err := db.ApplyFlush(t.Context(), &apilens.Flush{Stream: "events", Offset: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %q: %v", path, err)
	}
}

func TestOpenURIAndMemory(t *testing.T) {
	uri := "file:" + filepath.ToSlash(filepath.Join(t.TempDir(), "uri.db")) + "?cache=private"
	for _, path := range []string{uri, ":memory:", "file:mem1?mode=memory"} {
		t.Run(path, func(t *testing.T) {
			db := openAt(t, path)
			defer db.Close()
			if err := db.ApplyFlush(t.Context(), &apilens.Flush{Stream: "events", Offset: 1, Rows: []apilens.RollupRow{apiRow("a", 2)}}); err != nil {
				t.Fatal(err)
			}
			if got := requestsByAPI(t, db); got["a"] != 2 {
				t.Errorf("got %v, want a=2", got)
			}
			if memory := db.reader == db.writer; memory != (path != uri) {
				t.Errorf("single connection = %v, want it only in memory", memory)
			}
		})
	}
	if _, err := Open(t.Context(), "", Options{}); err == nil {
		t.Error("Open with no path succeeded")
	}
}

// TestConformanceInMemory runs the suite on the single-connection
// in-memory database the tests of other packages may use.
func TestConformanceInMemory(t *testing.T) {
	storetest.RunAll(t, func(t *testing.T) apilens.Store { return openAt(t, ":memory:") })
}
