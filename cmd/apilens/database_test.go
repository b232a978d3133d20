package main

import (
	"bytes"
	"strings"
	"testing"
)

// runCmd runs a subcommand in-process with an environment of its own and
// returns what it printed.
func runCmd(t *testing.T, environ []string, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	env := &cmdEnv{stdout: &out, stderr: &out, getenv: func(string) string { return "" }, environ: func() []string { return environ }}
	if err := run(t.Context(), env, args); err != nil {
		t.Fatalf("apilens %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// TestMigrateAndPurge runs `migrate` and `purge` on SQLite; the
// PostgreSQL and MySQL backends they reach through openStore pass the
// same conformance suite (store/storetest).
func TestMigrateAndPurge(t *testing.T) {
	dir := t.TempDir()
	f := func(args string, want ...string) {
		t.Helper()
		out := runCmd(t, nil, append(strings.Fields(args), "--data-dir", dir)...)
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("apilens %s: output lacks %q:\n%s", args, w, out)
			}
		}
	}
	f("migrate --dry-run", "pending migration", "-- 0001_initial", "CREATE TABLE rollups")
	f("migrate --dry-run", "-- 0001_initial") // a dry run created nothing
	f("migrate", "0001_initial", "applied")
	f("migrate", "up to date")
	f("purge --dry-run", "would delete", "rollups/minute", "rollups/year           kept forever", "log_records", "total: 0 rows")
	f("purge", "total: 0 rows")
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://apilens:s3cret@db:5432/apilens":   "postgres://apilens:xxxxx@db:5432/apilens",
		"host=db user=apilens password=s3cret":        "host=db user=apilens password=xxxxx",
		"apilens:s3cret@tcp(db:3306)/apilens":         "apilens:xxxxx@tcp(db:3306)/apilens",
		"apilens@tcp(db:3306)/apilens?parseTime=true": "apilens@tcp(db:3306)/apilens?parseTime=true",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
