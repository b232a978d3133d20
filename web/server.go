// Package web is apilens's HTTP server: the REST API under /api/v1 (event
// ingestion and the analytics queries), health, readiness and metrics.
package web

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/ingest"
	"github.com/apilens/apilens/query"
)

// Submitter makes accepted batches durable (ingest.Pipeline).
type Submitter interface {
	// Submit takes n events encoded one after the other by
	// apilens.AppendEvent.
	Submit(ctx context.Context, principal, key string, events []byte, n int) (duplicate bool, err error)
	Lag() (int64, error)
}

// Options configure a Server. Zero values mean the defaults.
type Options struct {
	Addr          string // listen address, e.g. ":9090"
	TLSConfig     *tls.Config
	Users         apilens.UserStore
	Pinger        interface{ Ping(context.Context) error }
	Ingest        Submitter
	Query         *query.Service
	Logs          apilens.LogStore
	LogIngest     LogIngester
	Registry      *prometheus.Registry // nil: a new one
	IngestMetrics *ingest.Metrics
	MaxBodyBytes  int64 // default 16 MiB
	MaxInFlight   int   // concurrent ingest requests before 429; default 64
	Logger        *slog.Logger
	UI            fs.FS // the dashboard's built files; nil: those embedded (web/ui)
}

// Server serves the HTTP API.
type Server struct {
	opts     Options
	log      *slog.Logger
	auth     *Authenticator
	mux      *http.ServeMux
	srv      *http.Server
	ln       net.Listener
	inflight chan struct{}
	ready    func() error
	reqs     *prometheus.HistogramVec
}

// New returns a Server; Open starts listening.
func New(opts Options) *Server {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 16 << 20
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 64
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.IngestMetrics == nil {
		opts.IngestMetrics = ingest.NewMetrics(nil)
	}
	s := &Server{
		opts:     opts,
		log:      opts.Logger.With("component", "web"),
		auth:     NewAuthenticator(opts.Users),
		mux:      http.NewServeMux(),
		inflight: make(chan struct{}, opts.MaxInFlight),
		reqs: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "apilens_http_request_seconds", Help: "HTTP requests by route and status.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}, []string{"route", "code"}),
	}
	opts.Registry.MustRegister(s.reqs)
	s.registerHealthRoutes()
	s.registerSessionRoutes()
	s.registerUserRoutes()
	s.registerEventRoutes()
	s.registerTrafficRoutes()
	s.registerLogRoutes()
	s.registerUIRoutes()
	s.registerDebugRoutes()
	s.srv = &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		TLSConfig:         opts.TLSConfig,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return s
}

// Open starts listening; Addr returns the bound address.
func (s *Server) Open() error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return err
	}
	if s.opts.TLSConfig != nil {
		ln = tls.NewListener(ln, s.opts.TLSConfig)
	}
	s.ln = ln
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "err", err)
		}
	}()
	return nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops the server, letting requests in flight finish for a moment.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

// SetReady sets the readiness check /readyz runs in addition to the
// database ping.
func (s *Server) SetReady(f func() error) { s.ready = f }

// handlerFunc is a handler that returns an error for Server.handle to write.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// authedFunc is a handler that needs an authenticated user.
type authedFunc func(w http.ResponseWriter, r *http.Request, u *apilens.User) error

// handle registers a route whose errors are written as JSON.
func (s *Server) handle(pattern string, h handlerFunc) {
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		if err := h(sw, r); err != nil {
			s.writeError(sw, r, err)
		}
		s.reqs.WithLabelValues(pattern, strconv.Itoa(sw.code)).Observe(time.Since(t0).Seconds())
	}))
}

// authed registers a route that needs credentials; allow decides whether
// the user may use it (403 otherwise).
func (s *Server) authed(pattern string, allow func(*apilens.User) bool, h authedFunc) {
	s.handle(pattern, func(w http.ResponseWriter, r *http.Request) error {
		u, err := s.auth.Authenticate(r)
		if err != nil {
			return err
		}
		if !allow(u) {
			return apilens.Errorf(apilens.EFORBIDDEN, "user %q may not use %s", u.Name, r.URL.Path)
		}
		return h(w, r, u)
	})
}

// statuses maps error codes to HTTP statuses: the one place it is decided.
var statuses = map[string]int{
	apilens.EINVALID:      http.StatusBadRequest,
	apilens.EUNAUTHORIZED: http.StatusUnauthorized,
	apilens.EFORBIDDEN:    http.StatusForbidden,
	apilens.ENOTFOUND:     http.StatusNotFound,
	apilens.ECONFLICT:     http.StatusConflict,
	apilens.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	apilens.EBUSY:         http.StatusTooManyRequests,
	apilens.EUNAVAILABLE:  http.StatusServiceUnavailable,
	apilens.EINTERNAL:     http.StatusInternalServerError,
}

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
	// Rejected lists the bad items of an ingest batch, when that is why.
	Rejected []ingest.Rejection `json:"rejected,omitempty"`
}

// rejectedError is an EINVALID answer that carries per-item reasons.
type rejectedError struct {
	err      *apilens.Error
	rejected []ingest.Rejection
}

func (e *rejectedError) Error() string { return e.err.Error() }
func (e *rejectedError) Unwrap() error { return e.err }

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := apilens.ErrorCode(err)
	status := statuses[code]
	if code == apilens.EINTERNAL {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	switch code {
	case apilens.EUNAUTHORIZED:
		// The dashboard's own calls get no challenge, or the browser would
		// put its Basic dialog over the login page.
		if m := r.Header.Get("Sec-Fetch-Mode"); m == "" || m == "navigate" {
			w.Header().Set("WWW-Authenticate", `Basic realm="apilens", charset="UTF-8"`)
		}
	case apilens.EBUSY:
		w.Header().Set("Retry-After", "1")
	case apilens.EUNAVAILABLE:
		w.Header().Set("Retry-After", "5")
	}
	body := errorBody{Error: apilens.ErrorMessage(err), Code: code}
	var re *rejectedError
	if errors.As(err, &re) {
		body.Rejected = re.rejected
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (to flush a
// stream).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) registerHealthRoutes() {
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	s.handle("GET /readyz", func(w http.ResponseWriter, r *http.Request) error {
		problems := map[string]string{}
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if s.opts.Pinger != nil {
			if err := s.opts.Pinger.Ping(ctx); err != nil {
				problems["database"] = err.Error()
			}
		}
		if s.ready != nil {
			if err := s.ready(); err != nil {
				problems["pipeline"] = err.Error()
			}
		}
		if len(problems) > 0 {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ready": false, "problems": problems})
			return nil
		}
		writeJSON(w, http.StatusOK, map[string]any{"ready": true})
		return nil
	})
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{Registry: s.opts.Registry}))
}

// registerDebugRoutes serves Go's profiler to admins: an operator chasing
// CPU or memory needs it on the live process.
func (s *Server) registerDebugRoutes() {
	isAdmin := func(u *apilens.User) bool { return u.HasRole(apilens.RoleAdmin) }
	s.authed("GET /debug/pprof/{name...}", isAdmin, func(w http.ResponseWriter, r *http.Request, u *apilens.User) error {
		switch name := r.PathValue("name"); name {
		case "":
			pprof.Index(w, r)
		case "profile":
			pprof.Profile(w, r)
		case "trace":
			pprof.Trace(w, r)
		default:
			pprof.Handler(name).ServeHTTP(w, r)
		}
		return nil
	})
}
