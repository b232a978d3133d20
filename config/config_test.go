package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apilens/apilens"
)

// TestFixtures loads every testdata/*.good.toml, which must load and
// validate, and every *.bad.toml, which must fail with the error its first
// line names ("# error: …").
func TestFixtures(t *testing.T) {
	good, _ := filepath.Glob("testdata/*.good.toml")
	bad, _ := filepath.Glob("testdata/*.bad.toml")
	if len(good) == 0 || len(bad) == 0 {
		t.Fatal("no fixtures in testdata")
	}
	for _, path := range good {
		t.Run(filepath.Base(path), func(t *testing.T) {
			c, warnings, err := Load(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) > 0 {
				t.Errorf("warnings: %q", warnings)
			}
			c.Resolve()
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, path := range bad {
		t.Run(filepath.Base(path), func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(b), "\n")
			want, ok := strings.CutPrefix(first, "# error: ")
			if !ok || want == "" {
				t.Fatalf("first line %q is not \"# error: <expected substring>\"", first)
			}
			c, _, err := Load(path, nil)
			if err == nil {
				c.Resolve()
				err = c.Validate()
			}
			if err == nil {
				t.Fatalf("no error, want one containing %q", want)
			}
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q\ndoes not contain %q", err, want)
			}
		})
	}
}

func TestFullFixtureIsDefault(t *testing.T) {
	c, _, err := Load("testdata/full.good.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("testdata/full.good.toml differs from Default():\n got %+v\nwant %+v", c, Default())
	}
}

func TestLoadFile(t *testing.T) {
	c, _, err := Load("testdata/production.good.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"server.profile", c.Server.Profile, ProfileWorker},
		{"admin.password from file, newline trimmed", c.Admin.Password.Reveal(), "correct horse battery staple"},
		{"database.password from file, CRLF trimmed", c.Database.Password.Reveal(), "db-s3cret"},
		{"ingest.max_body_bytes as an integer", c.Ingest.MaxBodyBytes, 32 * MiB},
		{"ingest.spool_max_bytes decimal unit", c.Ingest.SpoolMaxBytes, 20 * GB},
		{"ingest.spool_segment_bytes default kept", c.Ingest.SpoolSegmentBytes, 64 * MiB},
		{"ingest.idempotency_window", c.Ingest.IdempotencyWindow, Duration(48 * time.Hour)},
		{"retention.raw_events", c.Retention.RawEvents, Duration(36 * time.Hour)},
		{"retention.year as an integer", c.Retention.Year, Duration(0)},
		{"retention.hour default kept", c.Retention.Hour, Duration(90 * 24 * time.Hour)},
		{"cap user", c.Rollup.Cap("user"), 1000000},
		{"cap apiVersion", c.Rollup.Cap("apiVersion"), 500},
		{"cap api falls back", c.Rollup.Cap("api"), 50000},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, _, err := Load("testdata/no-such.toml", nil)
	if err == nil || !strings.Contains(err.Error(), "testdata/no-such.toml") {
		t.Fatalf("err = %v, want one naming the file", err)
	}
}

func TestEnv(t *testing.T) {
	c, warnings, err := Load("", []string{
		"HOME=/root",
		"APILENS_SERVER_HTTP_ADDR=127.0.0.1:8080",
		"APILENS_ADMIN_USER=root",
		"APILENS_ADMIN_PASSWORD=hunter2",
		"APILENS_INGEST_MAX_BODY_BYTES=1MiB",
		"APILENS_INGEST_MAX_IN_FLIGHT=8",
		"APILENS_RETENTION_LOGS=7d",
		"APILENS_ROLLUP_MAX_DISTINCT=500",
		"APILENS_ROLLUP_MAX_DISTINCT_BY_DIMENSION_USER=100000",
		"APILENS_ROLLUP_MAX_DISTINCT_BY_DIMENSION_APIVERSION=50",
		"APILENS_DATABASE_VALIDATION_QUERY=SELECT 1=1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %q", warnings)
	}
	want := Default()
	want.Server.HTTPAddr = "127.0.0.1:8080"
	want.Admin.User = "root"
	want.Admin.Password = "hunter2"
	want.Ingest.MaxBodyBytes = MiB
	want.Ingest.MaxInFlight = 8
	want.Retention.Logs = Duration(7 * 24 * time.Hour)
	want.Rollup.MaxDistinct = 500
	want.Rollup.MaxDistinctByDimension = map[string]int{"user": 100000, "apiVersion": 50}
	want.Database.ValidationQuery = "SELECT 1=1"
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
}

func TestEnvErrors(t *testing.T) {
	f := func(env, want string) {
		t.Helper()
		_, _, err := Load("", []string{env})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want one containing %q", env, err, want)
		}
	}
	f("APILENS_INGEST_MAX_BODY_BYTES=16 potatoes", `APILENS_INGEST_MAX_BODY_BYTES: invalid size "16 potatoes"`)
	f("APILENS_INGEST_MAX_IN_FLIGHT=many", `APILENS_INGEST_MAX_IN_FLIGHT: "many" is not an integer`)
	f("APILENS_INGEST_FLUSH_INTERVAL=soon", `APILENS_INGEST_FLUSH_INTERVAL: invalid duration "soon"`)
	f("APILENS_ROLLUP_MAX_DISTINCT_BY_DIMENSION_USER=lots", `APILENS_ROLLUP_MAX_DISTINCT_BY_DIMENSION_USER: "lots" is not an integer`)
	f("APILENS_ADMIN_PASSWORD_FILE=testdata/no-such.secret", "APILENS_ADMIN_PASSWORD_FILE: admin.password_file: cannot read secret: open testdata/no-such.secret")

	_, _, err := Load("", []string{"APILENS_ADMIN_PASSWORD=x", "APILENS_ADMIN_PASSWORD_FILE=testdata/admin.secret"})
	if want := "APILENS_ADMIN_PASSWORD and APILENS_ADMIN_PASSWORD_FILE are both set"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want one containing %q", err, want)
	}

	// Every bad variable is reported, not just the first.
	_, _, err = Load("", []string{"APILENS_INGEST_MAX_IN_FLIGHT=x", "APILENS_LOG_LEVEL=debug", "APILENS_ROLLUP_MAX_DISTINCT=y"})
	if err == nil || !strings.Contains(err.Error(), "APILENS_INGEST_MAX_IN_FLIGHT") || !strings.Contains(err.Error(), "APILENS_ROLLUP_MAX_DISTINCT") {
		t.Errorf("err = %v, want both variables named", err)
	}
}

func TestEnvUnknownDimension(t *testing.T) {
	c, _, err := Load("", []string{"APILENS_ROLLUP_MAX_DISTINCT_BY_DIMENSION_TENANT=5"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "rollup.max_distinct_by_dimension.tenant: unknown dimension") {
		t.Errorf("Validate = %v, want the unknown dimension reported", err)
	}
}

func TestEnvWarnings(t *testing.T) {
	c, warnings, err := Load("", []string{"APILENS_SERVER_HTTPADDR=:1", "APILENS_LOG_LEVEL=warn", "APILENSX=1", "PATH=/bin"})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "APILENS_SERVER_HTTPADDR") {
		t.Errorf("warnings = %q, want one naming APILENS_SERVER_HTTPADDR", warnings)
	}
	if c.Log.Level != "warn" || c.Server.HTTPAddr != ":9090" {
		t.Errorf("log.level = %q, server.http_addr = %q", c.Log.Level, c.Server.HTTPAddr)
	}
}

// TestPrecedence checks defaults < file < environment < flags.
func TestPrecedence(t *testing.T) {
	path := writeFile(t, "apilens.toml", `
[server]
http_addr = ":1111"
data_dir = "/file"
public_url = "http://file.example"

[log]
level = "warn"
`)
	c, _, err := Load(path, []string{"APILENS_SERVER_HTTP_ADDR=:2222", "APILENS_SERVER_DATA_DIR=/env"})
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.String("http-addr", ":9090", "")
	fs.String("data-dir", "", "")
	fs.String("config", "", "")
	if err := fs.Parse([]string{"--http-addr", ":3333", "--config", path}); err != nil {
		t.Fatal(err)
	}
	if err := c.ApplyFlags(fs); err != nil {
		t.Fatal(err)
	}
	got := []string{c.Server.HTTPAddr, c.Server.DataDir, c.Server.PublicURL, c.Log.Level, c.Log.Format}
	want := []string{":3333", "/env", "http://file.example", "warn", "text"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestApplyFlagsError(t *testing.T) {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.String("log-level", "", "")
	if err := fs.Parse([]string{"--log-level", "debug"}); err != nil {
		t.Fatal(err)
	}
	c := Default()
	if err := c.ApplyFlags(fs); err != nil || c.Log.Level != "debug" {
		t.Fatalf("ApplyFlags = %v, log.level = %q", err, c.Log.Level)
	}
}

func TestSecretLayers(t *testing.T) {
	fileWithPasswordFile := writeFile(t, "a.toml", "[admin]\npassword_file = \"testdata/admin.secret\"\n")
	fileWithPassword := writeFile(t, "b.toml", "[admin]\npassword = \"from-file\"\n")
	tests := []struct {
		name     string
		path     string
		env      []string
		want     Secret
		wantFile string
	}{
		{"file password_file", fileWithPasswordFile, nil, "correct horse battery staple", "testdata/admin.secret"},
		{"env password beats file password_file", fileWithPasswordFile, []string{"APILENS_ADMIN_PASSWORD=from-env"}, "from-env", ""},
		{"env password_file beats file password", fileWithPassword, []string{"APILENS_ADMIN_PASSWORD_FILE=testdata/admin.secret"}, "correct horse battery staple", "testdata/admin.secret"},
		{"empty env password_file forgets file password_file", fileWithPasswordFile, []string{"APILENS_ADMIN_PASSWORD_FILE="}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := Load(tc.path, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if c.Admin.Password != tc.want || c.Admin.PasswordFile != tc.wantFile {
				t.Errorf("admin.password = %q, admin.password_file = %q; want %q, %q",
					c.Admin.Password.Reveal(), c.Admin.PasswordFile, tc.want.Reveal(), tc.wantFile)
			}
		})
	}

	c, _, err := Load("", []string{"APILENS_DATABASE_PASSWORD_FILE=testdata/db.secret"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Database.Password.Reveal(); got != "db-s3cret" {
		t.Errorf("database.password = %q, want %q", got, "db-s3cret")
	}

	empty := writeFile(t, "empty.secret", "\n")
	if _, _, err := Load("", []string{"APILENS_ADMIN_PASSWORD_FILE=" + empty}); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("empty password file: err = %v", err)
	}
}

// TestWriteTOML checks that the printed configuration masks its secrets and
// loads back to the same configuration, masked secrets apart.
func TestWriteTOML(t *testing.T) {
	c, _, err := Load("testdata/production.good.toml", []string{
		"APILENS_DATABASE_URL=postgres://apilens:pg-pass@db:5432/apilens",
		"APILENS_ROLLUP_MAX_DISTINCT_BY_DIMENSION_COUNTRY=300",
		"APILENS_INGEST_SPOOL_MEMORY_BYTES=1000001",
		"APILENS_INGEST_FLUSH_INTERVAL=1m30s",
		"APILENS_RETENTION_ALERTS=8d12h",
		"APILENS_ADMIN_PASSWORD=from-env",
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Resolve()
	var buf bytes.Buffer
	if err := c.WriteTOML(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, secret := range []string{"from-env", "db-s3cret", "pg-pass"} {
		if strings.Contains(out, secret) {
			t.Errorf("output shows secret %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{`password = "******"`, `password = ""
password_file = "testdata/db.secret"`, `url = "postgres://apilens:******@db:5432/apilens"`, `max_body_bytes = "32MiB"`, `alerts = "8d12h"`, `spool_max_bytes = "20GB"`, `spool_memory_bytes = "1000001"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}

	path := writeFile(t, "printed.toml", out)
	back, _, err := Load(path, nil)
	if err != nil {
		t.Fatalf("loading the printed configuration: %v\n%s", err, out)
	}
	want := *c
	want.Admin.Password = masked
	want.Database.URL = "postgres://apilens:******@db:5432/apilens"
	if !reflect.DeepEqual(back, &want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, &want)
	}
}

func TestWriteTOMLDefault(t *testing.T) {
	var buf bytes.Buffer
	if err := Default().WriteTOML(&buf); err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, "default.toml", buf.String())
	c, _, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("round trip of Default:\n got %+v\nwant %+v", c, Default())
	}
	for _, line := range []string{`minute = "72h"`, `idempotency_window = "1h"`, `month = "3660d"`, `year = "0"`, `password = ""`} {
		if !strings.Contains(buf.String(), line) {
			t.Errorf("output lacks %s:\n%s", line, buf.String())
		}
	}
}

func TestRedactDSN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"/var/lib/apilens/apilens.db", "/var/lib/apilens/apilens.db"},
		{"postgres://u:p%40ss@h:5432/db?sslmode=disable", "postgres://u:******@h:5432/db?sslmode=disable"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"host=h user=u password='a b' dbname=x", "host=h user=u password=****** dbname=x"},
		{"host=h password=secret", "host=h password=******"},
		{"u:pw@tcp(h:3306)/db?parseTime=true", "u:******@tcp(h:3306)/db?parseTime=true"},
		{"u:p@w/d@tcp(h)/db", "u:******@tcp(h)/db"},
		{"u@tcp(h)/db", "u@tcp(h)/db"},
	}
	for _, tc := range tests {
		if got := redactDSN(tc.in); got != tc.want {
			t.Errorf("redactDSN(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestDefaultRetention checks the defaults against REFERENCE §5.
func TestDefaultRetention(t *testing.T) {
	r := Default().Retention
	if got, want := r.Rollups(), apilens.DefaultRetention(); !reflect.DeepEqual(got, want) {
		t.Errorf("Rollups() = %v, want %v", got, want)
	}
	want := apilens.Retention{
		apilens.Minute: 72 * time.Hour,
		apilens.Hour:   90 * 24 * time.Hour,
		apilens.Day:    366 * 24 * time.Hour,
		apilens.Month:  3660 * 24 * time.Hour,
		apilens.Year:   0,
	}
	if got := r.Rollups(); !reflect.DeepEqual(got, want) {
		t.Errorf("Rollups() = %v, want %v", got, want)
	}
	// 3.x never purged these (a complaint): each has a finite retention.
	for name, d := range map[string]Duration{"raw_events": r.RawEvents, "logs": r.Logs, "alerts": r.Alerts} {
		if d <= 0 {
			t.Errorf("retention.%s = %s, want a finite retention", name, d)
		}
	}
}

func TestDefaultValidates(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	c.Resolve()
	if err := c.Validate(); err != nil {
		t.Fatalf("after Resolve: %v", err)
	}
}

func TestValidateReportsAll(t *testing.T) {
	c := Default()
	c.Server.Profile = "x"
	c.Database.Type = "postgres"
	c.Ingest.MaxBodyBytes = 0
	c.Log.Format = "xml"
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, key := range []string{"server.profile:", "database.url:", "ingest.max_body_bytes:", "log.format:"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error lacks %s:\n%v", key, err)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 4 {
		t.Errorf("%d problems reported, want 4:\n%v", n, err)
	}
}

func TestResolve(t *testing.T) {
	abs := t.TempDir()
	tests := []struct {
		name, dbType, url, spool string
		wantURL, wantSpool       string
	}{
		{"defaults", "sqlite", "", "", filepath.Join(abs, "apilens.db"), filepath.Join(abs, "spool")},
		{"relative", "sqlite", "x/a.db", "q", filepath.Join(abs, "x/a.db"), filepath.Join(abs, "q")},
		{"absolute", "sqlite", "/db/a.db", "/spool", "/db/a.db", "/spool"},
		{"memory", "sqlite", ":memory:", "", ":memory:", filepath.Join(abs, "spool")},
		{"uri", "sqlite", "file:a.db?_pragma=foreign_keys(1)", "", "file:a.db?_pragma=foreign_keys(1)", filepath.Join(abs, "spool")},
		{"postgres", "postgres", "postgres://h/db", "", "postgres://h/db", filepath.Join(abs, "spool")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Server.DataDir = abs
			c.Database.Type, c.Database.URL, c.Ingest.SpoolDir = tc.dbType, tc.url, tc.spool
			c.Resolve()
			if c.Database.URL != tc.wantURL || c.Ingest.SpoolDir != tc.wantSpool {
				t.Errorf("database.url = %q, ingest.spool_dir = %q; want %q, %q", c.Database.URL, c.Ingest.SpoolDir, tc.wantURL, tc.wantSpool)
			}
			again := *c
			again.Resolve()
			if !reflect.DeepEqual(&again, c) {
				t.Errorf("Resolve is not idempotent: %+v then %+v", c, again)
			}
		})
	}

	c := Default()
	c.Resolve()
	wd, _ := os.Getwd()
	if want := filepath.Join(wd, "apilens-data", "apilens.db"); c.Database.URL != want {
		t.Errorf("default database.url = %q, want %q", c.Database.URL, want)
	}
}

func TestDashboardURL(t *testing.T) {
	tests := []struct {
		public, httpAddr, listen string
		tls                      bool
		want                     string
	}{
		{"", ":9090", "", false, "http://localhost:9090"},
		{"", "127.0.0.1:0", "127.0.0.1:43127", false, "http://127.0.0.1:43127"},
		{"", ":9090", "[::]:9090", true, "https://localhost:9090"},
		{"", ":9090", "[::1]:9090", false, "http://[::1]:9090"},
		{"", "0.0.0.0:80", "", false, "http://localhost:80"},
		{"https://a.example/analytics", ":9090", "[::]:1", false, "https://a.example/analytics"},
	}
	for _, tc := range tests {
		c := Default()
		c.Server.PublicURL, c.Server.HTTPAddr = tc.public, tc.httpAddr
		if tc.tls {
			c.TLS.CertFile, c.TLS.KeyFile = "c", "k"
		}
		if got := c.DashboardURL(tc.listen); got != tc.want {
			t.Errorf("%+v: DashboardURL = %q, want %q", tc, got, tc.want)
		}
	}
}

func TestSlogLevel(t *testing.T) {
	for level, want := range map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError, "bogus": slog.LevelInfo} {
		c := Default()
		c.Log.Level = level
		if got := c.SlogLevel(); got != want {
			t.Errorf("SlogLevel(%q) = %v, want %v", level, got, want)
		}
	}
}

func TestSecretMasked(t *testing.T) {
	c := Default()
	c.Admin.Password = "hunter2"
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "admin", c.Admin, "password", c.Admin.Password)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "admin", c.Admin, "password", c.Admin.Password)
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{buf.String(), string(j), c.Admin.Password.String(), c.Admin.Password.GoString()} {
		if strings.Contains(s, "hunter2") || !strings.Contains(s, masked) {
			t.Errorf("secret shown or not masked: %s", s)
		}
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, c); strings.Contains(s, "hunter2") {
			t.Errorf("%s shows the secret: %s", verb, s)
		}
	}
	if Secret("").String() != "" {
		t.Error("an empty secret should print as empty, to show it is unset")
	}
}

// TestSchema checks that every key has a snake_case name, a distinct
// environment variable, and can be set from its own printed value.
func TestSchema(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z]+(_[a-z]+)*\.[a-z]+(_[a-z]+)*$`)
	c := Default()
	c.Admin.Password, c.Database.Password = "a", "b"
	seen := map[string]bool{}
	for _, f := range c.fields() {
		if !snake.MatchString(f.key) {
			t.Errorf("key %q is not section.snake_case", f.key)
		}
		if seen[f.env] {
			t.Errorf("environment variable %s names two keys", f.env)
		}
		seen[f.env] = true
		before := f.v.Interface()
		var text string
		switch v := before.(type) {
		case Secret:
			text = v.Reveal()
		case interface{ MarshalText() ([]byte, error) }:
			b, _ := v.MarshalText()
			text = string(b)
		case string:
			text = v
		case int:
			text = strconv.Itoa(v)
		case bool:
			text = strconv.FormatBool(v)
		default:
			t.Fatalf("key %s has type %T, which Set does not handle", f.key, v)
		}
		if strings.HasSuffix(f.key, "_file") {
			continue // setting it reads the file
		}
		if err := c.Set(f.key, text); err != nil {
			t.Errorf("Set(%q, %q) = %v", f.key, text, err)
		}
		if after := f.v.Interface(); after != before {
			t.Errorf("Set(%q, %q) changed %v to %v", f.key, text, before, after)
		}
	}
	if err := c.Set("server.nope", "x"); err == nil || err.Error() != "server.nope: unknown key" {
		t.Errorf("Set of an unknown key = %v", err)
	}
}

func TestCap(t *testing.T) {
	r := RollupConfig{MaxDistinct: 10, MaxDistinctByDimension: map[string]int{"user": 99}}
	if r.Cap("user") != 99 || r.Cap("api") != 10 {
		t.Errorf("Cap(user) = %d, Cap(api) = %d", r.Cap("user"), r.Cap("api"))
	}
	if (RollupConfig{MaxDistinct: 7}).Cap("user") != 7 {
		t.Error("Cap with a nil map")
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestUnknownKeys(t *testing.T) {
	path := writeFile(t, "apilens.toml", `
[SERVER]
http_addr = ":1"

[ingest]
maxbodybytes = 1
flush_intervall = "2s"
spool = "x"

[retention]
minutes = "1h"

[foo.bar]
x = 1
`)
	_, _, err := Load(path, nil)
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`unknown table "SERVER" (did you mean "server"?)`,
		`unknown key "ingest.maxbodybytes" (did you mean "ingest.max_body_bytes"?)`,
		`unknown key "ingest.flush_intervall" (did you mean "ingest.flush_interval"?)`,
		`unknown key "ingest.spool"`,
		`unknown key "retention.minutes" (did you mean "retention.minute"?)`,
		`unknown table "foo.bar"`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(lines), len(want), err)
	}
	for i, line := range lines {
		if line != path+": "+want[i] {
			t.Errorf("error %d = %q, want %q", i, line, path+": "+want[i])
		}
	}
}
