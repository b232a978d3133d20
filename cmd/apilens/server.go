package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/config"
	"github.com/apilens/apilens/databridge"
	"github.com/apilens/apilens/databridge/thrift"
	"github.com/apilens/apilens/enrich"
	"github.com/apilens/apilens/ingest"
	"github.com/apilens/apilens/query"
	"github.com/apilens/apilens/spool"
	"github.com/apilens/apilens/web"
)

func init() {
	register("server", "run the analytics server (receivers, rollups, query API): the quick setup", runServer)
}

// serverFlags are the contract flags of SPEC §1, shared by server and demo.
type serverFlags struct {
	config, dataDir, httpAddr string
}

func (f *serverFlags) add(fs interface {
	StringVar(*string, string, string, string)
}) {
	fs.StringVar(&f.config, "config", "", "configuration `file` (TOML)")
	fs.StringVar(&f.dataDir, "data-dir", "", "data `directory` (overrides [server] data_dir)")
	fs.StringVar(&f.httpAddr, "http-addr", "", "HTTP listen `address` (overrides [server] http_addr)")
}

// load reads the configuration: defaults < file < environment < flags.
func (f *serverFlags) load(env *cmdEnv) (*config.Config, error) {
	cfg, warnings, err := config.Load(f.config, env.environ())
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		fmt.Fprintln(env.stderr, "apilens: warning:", w)
	}
	if f.dataDir != "" {
		cfg.Server.DataDir = f.dataDir
	}
	if f.httpAddr != "" {
		cfg.Server.HTTPAddr = f.httpAddr
	}
	cfg.Resolve()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func runServer(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlagSet(env, "server", "[--config FILE] [--data-dir DIR] [--http-addr HOST:PORT]")
	var sf serverFlags
	sf.add(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := sf.load(env)
	if err != nil {
		return err
	}
	m := &Main{Config: cfg, Stdout: env.stdout, Logger: newLogger(cfg, env.stderr)}
	if err := m.Open(ctx); err != nil {
		m.Close()
		return err
	}
	<-ctx.Done()
	m.Logger.Info("shutting down")
	return m.Close()
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.SlogLevel()}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Main is a running apilens server. Tests start it on port 0 with a temp
// data directory; the subcommands start it on the configured address.
type Main struct {
	Config *config.Config
	Logger *slog.Logger
	// Stdout receives the URL and login, printed once at start.
	Stdout io.Writer
	// ResetAdminPassword makes Open generate and print a new bootstrap
	// admin password even when the admin exists (the demo does this).
	ResetAdminPassword bool

	// AdminPassword is the bootstrap admin's password when Open set it
	// (given or generated); empty when the admin kept an earlier one.
	AdminPassword string

	Store    apilens.Store
	Spool    *spool.Spool
	Enricher *enrich.Enricher
	Pipeline *ingest.Pipeline
	Web      *web.Server

	// DatabridgeCore is the data-bridge receivers' shared state (sessions,
	// stream definitions); Binary and Thrift are the two transports, nil
	// when both of their addresses are "". Their Addr and TLSAddr give the
	// bound addresses (tests listen on port 0).
	DatabridgeCore      *databridge.Core
	Binary              *databridge.BinaryServer
	Thrift              *thrift.Server
	databridgeTLSConfig *tls.Config

	stopPurge context.CancelFunc
	purgeDone chan struct{}
}

// Open starts everything and prints the URL and login.
func (m *Main) Open(ctx context.Context) error {
	cfg := m.Config
	if m.Logger == nil {
		m.Logger = slog.Default()
	}
	if m.Stdout == nil {
		m.Stdout = io.Discard
	}
	// A soft memory limit makes the GC work harder as the heap nears it,
	// instead of letting a burst double the heap; GOMEMLIMIT overrides it.
	if os.Getenv("GOMEMLIMIT") == "" && cfg.Server.MemoryLimit > 0 {
		debug.SetMemoryLimit(int64(cfg.Server.MemoryLimit))
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(cfg.Server.GCPercent)
	}
	if err := os.MkdirAll(cfg.Server.DataDir, 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	db, err := openStore(ctx, cfg, m.Logger)
	if err != nil {
		return err
	}
	m.Store = db
	if err := m.bootstrapAdmin(ctx); err != nil {
		return err
	}

	start, err := ingest.StartOffset(ctx, db)
	if err != nil {
		return err
	}
	sp, err := spool.Open(spool.Options{
		Dir:          cfg.Ingest.SpoolDir,
		MaxBytes:     int64(cfg.Ingest.SpoolMaxBytes),
		MemoryBytes:  int64(cfg.Ingest.SpoolMemoryBytes),
		SegmentBytes: int64(cfg.Ingest.SpoolSegmentBytes),
		StartOffset:  start,
		Logger:       m.Logger.With("component", "spool"),
	})
	if err != nil {
		return fmt.Errorf("open spool: %w", err)
	}
	m.Spool = sp
	// What is before the stored position was flushed: don't count it
	// against the spool's bound.
	if err := sp.Release(start); err != nil {
		return fmt.Errorf("release flushed spool segments: %w", err)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(spoolCollector{sp})
	metrics := ingest.NewMetrics(reg)
	retention := cfg.Retention.Rollups()
	var enrichFn func(*apilens.Event)
	if cfg.Enrich.Enabled {
		m.Enricher, err = enrich.New(enrich.Options{
			UserAgentRegexes: cfg.Enrich.UserAgentRegexes,
			GeoIPDatabase:    cfg.Enrich.GeoIPDatabase,
			CacheSize:        cfg.Enrich.CacheSize,
			Logger:           m.Logger,
		})
		if err != nil {
			return fmt.Errorf("load enrichment data: %w", err)
		}
		enrichFn = m.Enricher.Enrich
	}
	m.Pipeline = ingest.New(ingest.Options{
		Log:               ingest.SpoolLog(sp),
		Store:             db,
		Enrich:            enrichFn,
		Retention:         retention,
		Cap:               cfg.Rollup.Cap,
		FlushInterval:     time.Duration(cfg.Ingest.FlushInterval),
		CoarseInterval:    time.Duration(cfg.Ingest.CoarseFlushInterval),
		FlushMaxRows:      cfg.Ingest.FlushMaxRows,
		MaxHeldBytes:      int64(cfg.Ingest.SpoolMaxBytes) / 4,
		IdempotencyWindow: time.Duration(cfg.Ingest.IdempotencyWindow),
		Metrics:           metrics,
		Logger:            m.Logger,
	})
	if err := m.Pipeline.Start(ctx); err != nil {
		return err
	}

	classifier, err := cfg.LogAnalyzer.Classifier()
	if err != nil {
		return err
	}
	logs := ingest.NewLogIngester(ingest.LogOptions{
		Store: db, Classifier: classifier, Zone: cfg.LogAnalyzer.ZoneOf, Registry: reg,
	})
	if err := m.openDatabridge(logs); err != nil {
		return err
	}

	var tlsConfig *tls.Config
	if cfg.TLS.Enabled() {
		cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
		if err != nil {
			return fmt.Errorf("load TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	m.Web = web.New(web.Options{
		Addr:          cfg.Server.HTTPAddr,
		TLSConfig:     tlsConfig,
		Users:         db,
		Pinger:        db,
		Ingest:        m.Pipeline,
		Query:         query.New(db, retention, nil),
		Logs:          db,
		LogIngest:     logs,
		Registry:      reg,
		IngestMetrics: metrics,
		MaxBodyBytes:  int64(cfg.Ingest.MaxBodyBytes),
		MaxInFlight:   cfg.Ingest.MaxInFlight,
		Logger:        m.Logger,
	})
	m.Web.SetReady(func() error {
		if _, err := m.Pipeline.Lag(); err != nil {
			return fmt.Errorf("rollup flushes are failing: %v", err)
		}
		return nil
	})
	if err := m.Web.Open(); err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Server.HTTPAddr, err)
	}
	m.startPurge()
	m.Logger.Info("apilens started", "url", m.URL(), "data_dir", cfg.Server.DataDir, "database", cfg.Database.Type)
	fmt.Fprintf(m.Stdout, "apilens is listening on %s\n", m.URL())
	if m.AdminPassword != "" {
		fmt.Fprintf(m.Stdout, "login: %s / %s\n", cfg.Admin.User, m.AdminPassword)
	}
	return nil
}

// URL returns the address users reach the server at.
func (m *Main) URL() string { return m.Config.DashboardURL(m.Web.Addr().String()) }

// Close stops everything: the listener first, then the pipeline (after a
// last flush), then storage.
func (m *Main) Close() error {
	var errs []error
	if m.Binary != nil {
		errs = append(errs, m.Binary.Close())
	}
	if m.Thrift != nil {
		errs = append(errs, m.Thrift.Close())
	}
	if m.Web != nil {
		errs = append(errs, m.Web.Close())
	}
	if m.stopPurge != nil {
		m.stopPurge()
		<-m.purgeDone
	}
	if m.Pipeline != nil {
		errs = append(errs, m.Pipeline.Close())
	}
	if m.Enricher != nil {
		errs = append(errs, m.Enricher.Close())
	}
	if m.Spool != nil {
		errs = append(errs, m.Spool.Close())
	}
	if m.Store != nil {
		errs = append(errs, m.Store.Close())
	}
	return errors.Join(errs...)
}

// bootstrapAdmin makes sure the bootstrap admin exists. A password from the
// configuration or APILENS_ADMIN_PASSWORD is (re)applied; without one, a
// first start generates a random password and prints it once.
func (m *Main) bootstrapAdmin(ctx context.Context) error {
	cfg := m.Config
	name := cfg.Admin.User
	pass := cfg.Admin.Password.Reveal()
	existing, err := m.Store.User(ctx, name)
	if err != nil && apilens.ErrorCode(err) != apilens.ENOTFOUND {
		return err
	}
	if pass == "" && existing != nil && !m.ResetAdminPassword {
		return nil
	}
	if pass == "" {
		pass = randomPassword()
	}
	hash, err := web.HashPassword(pass)
	if err != nil {
		return err
	}
	u := &apilens.User{Name: name, PasswordHash: hash, Roles: []string{apilens.RoleAdmin}, Created: time.Now().UTC()}
	if existing != nil {
		u.Created = existing.Created
	}
	if err := m.Store.PutUser(ctx, u); err != nil {
		return fmt.Errorf("create bootstrap admin %q: %w", name, err)
	}
	m.AdminPassword = pass
	return nil
}

// randomPassword returns 20 characters from an alphabet without look-alikes.
func randomPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// startPurge runs retention every 10 minutes, from a minute after start;
// a failure is logged and the next round tries again.
func (m *Main) startPurge() {
	ctx, cancel := context.WithCancel(context.Background())
	m.stopPurge, m.purgeDone = cancel, make(chan struct{})
	go func() {
		defer close(m.purgeDone)
		t := time.NewTimer(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			purgeOnce(ctx, m.Config, m.Store, m.Logger)
			t.Reset(10 * time.Minute)
		}
	}()
}

// spoolCollector exports the spool's figures as Prometheus gauges.
type spoolCollector struct{ s *spool.Spool }

var (
	spoolBytesDesc    = prometheus.NewDesc("apilens_spool_bytes", "Bytes acknowledged but not yet flushed to the database.", nil, nil)
	spoolSegmentsDesc = prometheus.NewDesc("apilens_spool_segments", "Spool segment files.", nil, nil)
	spoolSyncsDesc    = prometheus.NewDesc("apilens_spool_syncs_total", "fsyncs of the spool (each covers a group of appends).", nil, nil)
)

func (c spoolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- spoolBytesDesc
	ch <- spoolSegmentsDesc
	ch <- spoolSyncsDesc
}

func (c spoolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	ch <- prometheus.MustNewConstMetric(spoolBytesDesc, prometheus.GaugeValue, float64(st.DiskBytes))
	ch <- prometheus.MustNewConstMetric(spoolSegmentsDesc, prometheus.GaugeValue, float64(st.Segments))
	ch <- prometheus.MustNewConstMetric(spoolSyncsDesc, prometheus.CounterValue, float64(st.Syncs))
}
