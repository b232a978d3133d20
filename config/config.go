// Package config is the apilens configuration: one TOML file (apilens.toml)
// with a table per subsystem, decoded strictly so that a misspelt key is an
// error that names it rather than a setting silently ignored.
//
// A setting's effective value comes from four layers; each overrides the
// ones before it:
//
//	defaults < file < environment < flags
//
// [Default] gives the defaults, [Load] decodes the file over them and then
// applies the environment, where key k of table [section] is the variable
// APILENS_SECTION_K (APILENS_SERVER_HTTP_ADDR, APILENS_ADMIN_PASSWORD, and
// APILENS_ROLLUP_MAX_DISTINCT_BY_DIMENSION_USER for a key of the cap map), and
// [Config.ApplyFlags] applies the command line. [Config.Resolve] then fills
// the values derived from others (paths under server.data_dir) and
// [Config.Validate] reports every remaining problem at once.
//
// Secrets ([Secret]) print masked; a secret may also be read from a file
// named by its *_file key. [Config.WriteTOML] prints the effective
// configuration, secrets masked, in the form the file takes.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/loganalyzer"
)

// Config is the whole apilens configuration, one field per TOML table.
type Config struct {
	Server    ServerConfig    `toml:"server"`
	TLS       TLSConfig       `toml:"tls"`
	Admin     AdminConfig     `toml:"admin"`
	Database  DatabaseConfig  `toml:"database"`
	Ingest    IngestConfig    `toml:"ingest"`
	Rollup    RollupConfig    `toml:"rollup"`
	Retention RetentionConfig `toml:"retention"`
	Enrich    EnrichConfig    `toml:"enrich"`
	Log       LogConfig       `toml:"log"`
	// LogAnalyzer is the gateway-log side (not to be confused with Log,
	// apilens's own log).
	LogAnalyzer LogAnalyzerConfig `toml:"loganalyzer"`
	Databridge  DatabridgeConfig  `toml:"databridge"`
}

// DatabridgeConfig is the [databridge] table: the WSO2 data-bridge
// receivers API-M 3.x gateways publish to (REFERENCE §1), on the ports of
// the 3.2 analytics worker so a gateway needs no change but its receiver
// URLs. An empty address disables that listener. The TLS listeners use
// [tls] cert_file/key_file, or else a self-signed certificate kept in the
// data directory.
type DatabridgeConfig struct {
	// BinaryAddr is the binary transport's plain TCP listener (tcp://).
	BinaryAddr string `toml:"binary_addr"`
	// BinaryTLSAddr is the binary transport's TLS listener (ssl://), the
	// agent's auth URL.
	BinaryTLSAddr string `toml:"binary_tls_addr"`
	// ThriftAddr is the Thrift transport's plain listener.
	ThriftAddr string `toml:"thrift_addr"`
	// ThriftTLSAddr is the Thrift transport's TLS listener.
	ThriftTLSAddr string `toml:"thrift_tls_addr"`
}

// LogAnalyzerConfig is the [loganalyzer] table: how gateway log lines are
// read and classified.
type LogAnalyzerConfig struct {
	// Zone is the IANA time zone of carbon timestamps, which carry none.
	Zone string `toml:"zone"`
	// SourceZones overrides Zone per source name.
	SourceZones map[string]string `toml:"source_zones"`
	// Rules classify records before the default rules; the first rule that
	// matches a record decides its category.
	Rules []loganalyzer.Rule `toml:"rules"`
	// DefaultRules keeps the built-in rules after Rules; false leaves only
	// Rules.
	DefaultRules bool `toml:"default_rules"`
}

// Classifier returns the configured rules, compiled.
func (c LogAnalyzerConfig) Classifier() (*loganalyzer.Classifier, error) {
	rules := slices.Clone(c.Rules)
	if c.DefaultRules {
		rules = append(rules, loganalyzer.DefaultRules()...)
	}
	return loganalyzer.NewClassifier(rules)
}

// ZoneOf returns the time zone of a source's timestamps.
func (c LogAnalyzerConfig) ZoneOf(source string) *time.Location {
	name := c.Zone
	if z, ok := c.SourceZones[source]; ok {
		name = z
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" {
		return time.UTC // Validate reported it
	}
	return loc
}

// The profiles a process runs as (server.profile): which halves of apilens
// it starts. The subcommand sets it.
const (
	ProfileServer    = "server"    // worker and dashboard in one process
	ProfileWorker    = "worker"    // receives, summarizes, alerts
	ProfileDashboard = "dashboard" // serves the UI and the query API
)

// ServerConfig is the [server] table: where apilens listens and keeps its
// files.
type ServerConfig struct {
	// HTTPAddr is the address of the HTTP listener (API, ingest, UI).
	HTTPAddr string `toml:"http_addr"`
	// DataDir holds the SQLite database, the spool and other local state.
	DataDir string `toml:"data_dir"`
	// PublicURL is how users reach the dashboard, used in printed URLs;
	// "" derives it from the listener's address.
	PublicURL string `toml:"public_url"`
	// Profile is one of ProfileServer, ProfileWorker, ProfileDashboard.
	Profile string `toml:"profile"`
	// MemoryLimit is the Go runtime's soft memory limit (GOMEMLIMIT
	// overrides it); 0 means none.
	MemoryLimit Size `toml:"memory_limit"`
	// GCPercent is the Go collector's target (GOGC overrides it): 50
	// trades a few percent of CPU for 40% less memory than Go's 100.
	GCPercent int `toml:"gc_percent"`
}

// TLSConfig is the [tls] table: PEM files for the HTTP listener. Both empty
// means plain HTTP.
type TLSConfig struct {
	// CertFile is the PEM certificate chain.
	CertFile string `toml:"cert_file"`
	// KeyFile is the PEM private key of the certificate.
	KeyFile string `toml:"key_file"`
}

// Enabled reports whether TLS is configured.
func (t TLSConfig) Enabled() bool { return t.CertFile != "" }

// AdminConfig is the [admin] table: the bootstrap administrator, created on
// first start.
type AdminConfig struct {
	User string `toml:"user"`
	// Password "" means generate a random one and print it once.
	Password Secret `toml:"password"`
	// PasswordFile, if set, names a file whose content is the password.
	PasswordFile string `toml:"password_file"`
}

// The database types (database.type).
const (
	DatabaseSQLite   = "sqlite"
	DatabasePostgres = "postgres"
	DatabaseMySQL    = "mysql"
)

// DatabaseConfig is the [database] table. The datasource settings mirror
// those of the seed's datasources.
type DatabaseConfig struct {
	// Type is one of DatabaseSQLite, DatabasePostgres, DatabaseMySQL.
	Type string `toml:"type"`
	// URL is the SQLite file path (relative to server.data_dir; ""
	// means <data_dir>/apilens.db) or the PostgreSQL/MySQL DSN.
	URL string `toml:"url"`
	// User and Password are the credentials, unless the DSN holds them.
	User     string `toml:"user"`
	Password Secret `toml:"password"`
	// PasswordFile, if set, names a file whose content is the password.
	PasswordFile      string   `toml:"password_file"`
	MaxPoolSize       int      `toml:"max_pool_size"`
	MinIdle           int      `toml:"min_idle"`
	IdleTimeout       Duration `toml:"idle_timeout"`
	ValidationQuery   string   `toml:"validation_query"`
	ValidationTimeout Duration `toml:"validation_timeout"`
}

// IngestConfig is the [ingest] table: limits and buffering of the ingest
// pipeline.
type IngestConfig struct {
	// MaxBodyBytes limits a decompressed request body; over it is 413.
	MaxBodyBytes Size `toml:"max_body_bytes"`
	// MaxInFlight is how many ingest requests run at once before 429.
	MaxInFlight int `toml:"max_in_flight"`
	// SpoolDir holds the durable buffer; relative to server.data_dir, ""
	// means <data_dir>/spool.
	SpoolDir          string `toml:"spool_dir"`
	SpoolMaxBytes     Size   `toml:"spool_max_bytes"`
	SpoolMemoryBytes  Size   `toml:"spool_memory_bytes"`
	SpoolSegmentBytes Size   `toml:"spool_segment_bytes"`
	// FlushInterval is how often minute and hour rollups (and raw events)
	// are written to the store: how fresh the figures are.
	FlushInterval Duration `toml:"flush_interval"`
	// CoarseFlushInterval is how often day, month and year rollups are
	// written; the spool keeps events until both have covered them.
	CoarseFlushInterval Duration `toml:"coarse_flush_interval"`
	// FlushMaxRows flushes early when the in-memory rollups grow past it.
	FlushMaxRows int `toml:"flush_max_rows"`
	// IdempotencyWindow is how long an Idempotency-Key is remembered.
	IdempotencyWindow Duration `toml:"idempotency_window"`
}

// RollupConfig is the [rollup] table: cardinality caps. Past its cap, a
// dimension's new values fold into apilens.Other.
type RollupConfig struct {
	// MaxDistinct is the default cap of distinct values per dimension per
	// tenant.
	MaxDistinct int `toml:"max_distinct"`
	// MaxDistinctByDimension overrides MaxDistinct for the dimensions it
	// names (api, application, user, resource, destination, country, city,
	// browser, os, device, apiVersion, errorMessage).
	MaxDistinctByDimension map[string]int `toml:"max_distinct_by_dimension"`
}

// cappedDimensions are the dimension names max_distinct_by_dimension accepts.
var cappedDimensions = []string{
	apilens.DimAPI, apilens.DimApplication, apilens.DimUser, apilens.DimResource,
	apilens.DimDestination, apilens.DimCountry, apilens.DimCity, apilens.DimBrowser,
	apilens.DimOS, apilens.DimDevice, apilens.DimAPIVersion, apilens.DimErrorMessage,
}

// Cap returns the cap of distinct values of dimension dim.
func (r RollupConfig) Cap(dim string) int {
	if n, ok := r.MaxDistinctByDimension[dim]; ok {
		return n
	}
	return r.MaxDistinct
}

// EnrichConfig is the [enrich] table: where the geo and user-agent
// answers of enrichment come from (package enrich).
type EnrichConfig struct {
	// Enabled turns enrichment on; off, every event keeps country N/A and
	// browser, OS and device Other.
	Enabled bool `toml:"enabled"`
	// UserAgentRegexes is a uap-core regexes.yaml; "" means Debian's
	// uap-core package's when installed, else the set built in.
	UserAgentRegexes string `toml:"user_agent_regexes"`
	// GeoIPDatabase is a MaxMind-format city database (GeoLite2-City,
	// DB-IP City Lite); "" means countries only, from Debian's
	// tor-geoipdb package when installed, else every country N/A.
	GeoIPDatabase string `toml:"geoip_database"`
	// CacheSize bounds the user-agent and address caches (entries each).
	CacheSize int `toml:"cache_size"`
}

// RetentionConfig is the [retention] table: how long each kind of row is
// kept. Zero means forever.
type RetentionConfig struct {
	Minute    Duration `toml:"minute"`
	Hour      Duration `toml:"hour"`
	Day       Duration `toml:"day"`
	Month     Duration `toml:"month"`
	Year      Duration `toml:"year"`
	RawEvents Duration `toml:"raw_events"`
	Logs      Duration `toml:"logs"`
	Alerts    Duration `toml:"alerts"`
}

// Rollups returns the retention of each rollup granularity.
func (r RetentionConfig) Rollups() apilens.Retention {
	return apilens.Retention{
		apilens.Minute: time.Duration(r.Minute),
		apilens.Hour:   time.Duration(r.Hour),
		apilens.Day:    time.Duration(r.Day),
		apilens.Month:  time.Duration(r.Month),
		apilens.Year:   time.Duration(r.Year),
	}
}

// LogConfig is the [log] table: the process's own log.
type LogConfig struct {
	// Level is debug, info, warn or error.
	Level string `toml:"level"`
	// Format is text or json.
	Format string `toml:"format"`
}

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

// SlogLevel returns log.level as a slog.Level; info if it is not valid
// (Validate reports that).
func (c *Config) SlogLevel() slog.Level {
	if l, ok := logLevels[c.Log.Level]; ok {
		return l
	}
	return slog.LevelInfo
}

const day = 24 * time.Hour

// Default returns the configuration used where neither file, environment
// nor flags say otherwise: everything on one machine, SQLite in ./apilens-data.
func Default() *Config {
	return &Config{
		Server: ServerConfig{
			HTTPAddr:    ":9090",
			DataDir:     "./apilens-data",
			Profile:     ProfileServer,
			MemoryLimit: 512 * MiB,
			GCPercent:   50,
		},
		Admin: AdminConfig{User: "admin"},
		Database: DatabaseConfig{
			Type:              DatabaseSQLite,
			MaxPoolSize:       10,
			MinIdle:           2,
			IdleTimeout:       Duration(time.Minute),
			ValidationQuery:   "SELECT 1",
			ValidationTimeout: Duration(5 * time.Second),
		},
		Ingest: IngestConfig{
			MaxBodyBytes:        16 * MiB,
			MaxInFlight:         64,
			SpoolMaxBytes:       1 * GiB,
			SpoolMemoryBytes:    8 * MiB,
			SpoolSegmentBytes:   64 * MiB,
			FlushInterval:       Duration(5 * time.Second),
			CoarseFlushInterval: Duration(30 * time.Second),
			FlushMaxRows:        50000,
			IdempotencyWindow:   Duration(time.Hour),
		},
		Rollup: RollupConfig{
			MaxDistinct:            10000,
			MaxDistinctByDimension: map[string]int{},
		},
		Retention: RetentionConfig{
			Minute:    Duration(72 * time.Hour),
			Hour:      Duration(90 * day),
			Day:       Duration(366 * day),
			Month:     Duration(3660 * day),
			Year:      0,
			RawEvents: Duration(72 * time.Hour),
			Logs:      Duration(30 * day),
			Alerts:    Duration(365 * day),
		},
		Enrich:      EnrichConfig{Enabled: true, CacheSize: 10000},
		Log:         LogConfig{Level: "info", Format: "text"},
		LogAnalyzer: LogAnalyzerConfig{Zone: "UTC", DefaultRules: true},
		Databridge: DatabridgeConfig{
			BinaryAddr: ":9612", BinaryTLSAddr: ":9712", ThriftAddr: ":7612", ThriftTLSAddr: ":7712",
		},
	}
}

// Resolve fills the values derived from others; call it once the flags are
// applied. It makes server.data_dir absolute, sets database.url (SQLite) and
// ingest.spool_dir to their defaults under it when empty, and resolves them
// against it when relative. Calling it again changes nothing.
func (c *Config) Resolve() {
	if abs, err := filepath.Abs(c.Server.DataDir); err == nil {
		c.Server.DataDir = abs
	}
	if c.Database.Type == DatabaseSQLite && !isSQLiteSpecial(c.Database.URL) {
		c.Database.URL = c.underDataDir(c.Database.URL, "apilens.db")
	}
	c.Ingest.SpoolDir = c.underDataDir(c.Ingest.SpoolDir, "spool")
}

// isSQLiteSpecial reports whether a SQLite database.url is not a plain file
// path (an in-memory database or a file: URI) and so is left as written.
func isSQLiteSpecial(u string) bool {
	return u == ":memory:" || strings.HasPrefix(u, "file:")
}

func (c *Config) underDataDir(path, def string) string {
	if path == "" {
		path = def
	}
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(c.Server.DataDir, path)
}

// DashboardURL returns the URL users reach the dashboard at: server.public_url
// if set, or else one derived from listenAddr, the listener's actual address
// (so that port 0 prints the port chosen), or server.http_addr when it is "".
func (c *Config) DashboardURL(listenAddr string) string {
	if c.Server.PublicURL != "" {
		return c.Server.PublicURL
	}
	if listenAddr == "" {
		listenAddr = c.Server.HTTPAddr
	}
	host, port, err := net.SplitHostPort(listenAddr)
	if err != nil {
		host, port = listenAddr, ""
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	}
	scheme := "http"
	if c.TLS.Enabled() {
		scheme = "https"
	}
	return scheme + "://" + host
}

// Validate reports every problem of c, joined; each names its key.
func (c *Config) Validate() error {
	var p problems

	if c.Server.HTTPAddr == "" {
		p.addf("server.http_addr", "must not be empty")
	} else if _, _, err := net.SplitHostPort(c.Server.HTTPAddr); err != nil {
		p.addf("server.http_addr", "%q is not host:port", c.Server.HTTPAddr)
	}
	if c.Server.DataDir == "" {
		p.addf("server.data_dir", "must not be empty")
	}
	if c.Server.PublicURL != "" {
		u, err := url.Parse(c.Server.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.addf("server.public_url", "%q is not an http:// or https:// URL", c.Server.PublicURL)
		}
	}
	p.oneOf("server.profile", c.Server.Profile, ProfileServer, ProfileWorker, ProfileDashboard)

	if c.TLS.CertFile != "" && c.TLS.KeyFile == "" {
		p.addf("tls.key_file", "must be set when tls.cert_file is")
	}
	if c.TLS.KeyFile != "" && c.TLS.CertFile == "" {
		p.addf("tls.cert_file", "must be set when tls.key_file is")
	}

	if c.Admin.User == "" {
		p.addf("admin.user", "must not be empty")
	}

	db := &c.Database
	p.oneOf("database.type", db.Type, DatabaseSQLite, DatabasePostgres, DatabaseMySQL)
	if (db.Type == DatabasePostgres || db.Type == DatabaseMySQL) && db.URL == "" {
		p.addf("database.url", "must be set for database type %s", db.Type)
	}
	p.atLeast("database.max_pool_size", db.MaxPoolSize, 1)
	p.atLeast("database.min_idle", db.MinIdle, 0)
	if db.MinIdle > db.MaxPoolSize {
		p.addf("database.min_idle", "%d exceeds database.max_pool_size %d", db.MinIdle, db.MaxPoolSize)
	}
	p.nonNegative("database.idle_timeout", db.IdleTimeout)
	p.nonNegative("database.validation_timeout", db.ValidationTimeout)

	in := &c.Ingest
	p.positiveSize("ingest.max_body_bytes", in.MaxBodyBytes)
	p.atLeast("ingest.max_in_flight", in.MaxInFlight, 1)
	p.positiveSize("ingest.spool_max_bytes", in.SpoolMaxBytes)
	if in.SpoolMemoryBytes < 0 {
		p.addf("ingest.spool_memory_bytes", "must not be negative")
	}
	p.positiveSize("ingest.spool_segment_bytes", in.SpoolSegmentBytes)
	if in.SpoolSegmentBytes > in.SpoolMaxBytes && in.SpoolMaxBytes > 0 {
		p.addf("ingest.spool_segment_bytes", "%s exceeds ingest.spool_max_bytes %s", in.SpoolSegmentBytes, in.SpoolMaxBytes)
	}
	if c.Server.GCPercent < 10 {
		p.addf("server.gc_percent", "must be at least 10")
	}
	if in.CoarseFlushInterval <= 0 {
		p.addf("ingest.coarse_flush_interval", "must be positive")
	}
	if in.FlushInterval <= 0 {
		p.addf("ingest.flush_interval", "must be positive")
	}
	p.atLeast("ingest.flush_max_rows", in.FlushMaxRows, 1)
	p.nonNegative("ingest.idempotency_window", in.IdempotencyWindow)

	p.atLeast("rollup.max_distinct", c.Rollup.MaxDistinct, 1)
	for _, dim := range slices.Sorted(maps.Keys(c.Rollup.MaxDistinctByDimension)) {
		key := "rollup.max_distinct_by_dimension." + dim
		if !slices.Contains(cappedDimensions, dim) {
			p.addf(key, "unknown dimension (want one of %s)", strings.Join(cappedDimensions, ", "))
			continue
		}
		p.atLeast(key, c.Rollup.MaxDistinctByDimension[dim], 1)
	}

	r := &c.Retention
	p.nonNegative("retention.minute", r.Minute)
	p.nonNegative("retention.hour", r.Hour)
	p.nonNegative("retention.day", r.Day)
	p.nonNegative("retention.month", r.Month)
	p.nonNegative("retention.year", r.Year)
	p.nonNegative("retention.raw_events", r.RawEvents)
	p.nonNegative("retention.logs", r.Logs)
	p.nonNegative("retention.alerts", r.Alerts)

	en := &c.Enrich
	p.file("enrich.user_agent_regexes", en.UserAgentRegexes)
	p.file("enrich.geoip_database", en.GeoIPDatabase)
	p.atLeast("enrich.cache_size", en.CacheSize, 1)

	la := &c.LogAnalyzer
	if _, err := time.LoadLocation(la.Zone); err != nil {
		p.addf("loganalyzer.zone", "%q is not a time zone name (e.g. UTC, Asia/Colombo)", la.Zone)
	}
	for src, z := range la.SourceZones {
		if _, err := time.LoadLocation(z); err != nil {
			p.addf("loganalyzer.source_zones."+src, "%q is not a time zone name", z)
		}
	}
	if _, err := la.Classifier(); err != nil {
		p.addf("loganalyzer.rules", "%v", err)
	}

	db2 := &c.Databridge
	for _, a := range []struct{ key, addr string }{
		{"databridge.binary_addr", db2.BinaryAddr}, {"databridge.binary_tls_addr", db2.BinaryTLSAddr},
		{"databridge.thrift_addr", db2.ThriftAddr}, {"databridge.thrift_tls_addr", db2.ThriftTLSAddr},
	} {
		if _, _, err := net.SplitHostPort(a.addr); a.addr != "" && err != nil {
			p.addf(a.key, "%q is not host:port (or \"\" to disable the listener)", a.addr)
		}
	}

	p.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	p.oneOf("log.format", c.Log.Format, "text", "json")

	return errors.Join(p...)
}

// problems collects the errors of Validate.
type problems []error

func (p *problems) addf(key, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
}

func (p *problems) oneOf(key, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		p.addf(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
}

// file reports a path that is set but names no readable file.
func (p *problems) file(key, path string) {
	if path == "" {
		return
	}
	if fi, err := os.Stat(path); err != nil {
		p.addf(key, "%v", err)
	} else if fi.IsDir() {
		p.addf(key, "%s is a directory", path)
	}
}

func (p *problems) atLeast(key string, v, min int) {
	if v < min {
		p.addf(key, "%d is less than %d", v, min)
	}
}

func (p *problems) nonNegative(key string, d Duration) {
	if d < 0 {
		p.addf(key, "%s is negative", d)
	}
}

func (p *problems) positiveSize(key string, s Size) {
	if s <= 0 {
		p.addf(key, "%s is not positive", s)
	}
}
