package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/ingest"
)

// LogIngester takes log lines (ingest.LogIngester).
type LogIngester interface {
	Carbon(ctx context.Context, key, source string, body []byte) (*ingest.LogResult, error)
	NDJSON(ctx context.Context, key, source string, body []byte) (*ingest.LogResult, error)
	Hub() *ingest.LogHub
}

// The log analyzer is for admins (REFERENCE §9).
func canSeeLogs(u *apilens.User) bool { return mayOpen(u, "loganalyzer") }

func (s *Server) registerLogRoutes() {
	if s.opts.Logs == nil || s.opts.LogIngest == nil {
		return
	}
	s.authed("POST /api/v1/logs", canPublish, s.handlePostLogs)
	s.authed("GET /api/v1/logs/{id}/context", canSeeLogs, s.handleLogContext)
	s.authed("GET /api/v1/logs/tail", canSeeLogs, s.handleLogTail)
	s.authed("GET /api/v1/loganalyzer/token-errors", canSeeLogs, s.handleTokenErrors)
	s.authed("GET /api/v1/loganalyzer/token-errors/records", canSeeLogs, func(w http.ResponseWriter, r *http.Request, u *apilens.User) error {
		return s.listLogs(w, r, apilens.LogAccessToken)
	})
	s.authed("GET /api/v1/loganalyzer/records", canSeeLogs, func(w http.ResponseWriter, r *http.Request, u *apilens.User) error {
		return s.listLogs(w, r, r.URL.Query().Get("category"))
	})
	s.authed("GET /api/v1/loganalyzer/counts", canSeeLogs, s.handleLogCounts)
	s.authed("GET /api/v1/loganalyzer/timeline", canSeeLogs, s.handleLogTimeline)
}

// handlePostLogs is POST /api/v1/logs: NDJSON log events, or with
// format=carbon raw wso2carbon.log text of one source. A retried batch
// carries the same Idempotency-Key and is stored once.
func (s *Server) handlePostLogs(w http.ResponseWriter, r *http.Request, u *apilens.User) error {
	select {
	case s.inflight <- struct{}{}:
		defer func() { <-s.inflight }()
	default:
		return apilens.Errorf(apilens.EBUSY, "too many ingest requests in flight (%d); retry after a second", cap(s.inflight))
	}
	q := r.URL.Query()
	format, source := q.Get("format"), q.Get("source")
	if format == "" {
		format = "json"
		if strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
			format = "carbon"
		}
	}
	var body bytes.Buffer
	if err := s.readBody(r, &body); err != nil {
		return err
	}
	// Keys are per publisher, and apart from the events' keys.
	var key string
	if k := r.Header.Get("Idempotency-Key"); k != "" {
		key = "log\x1f" + u.Name + "\x1f" + k
	}
	var err error
	var res *ingest.LogResult
	switch format {
	case "carbon":
		res, err = s.opts.LogIngest.Carbon(r.Context(), key, source, body.Bytes())
	case "json":
		res, err = s.opts.LogIngest.NDJSON(r.Context(), key, source, body.Bytes())
	case "apim-metrics":
		return apilens.Errorf(apilens.EINVALID, "format apim-metrics (4.x metrics lines) is not supported yet; use carbon or json")
	default:
		return apilens.Errorf(apilens.EINVALID, "format: %q is not one of carbon, json", format)
	}
	if err != nil {
		return err
	}
	if res.Accepted == 0 && len(res.Rejected) > 0 {
		return &rejectedError{apilens.Errorf(apilens.EINVALID, "no valid log event in the batch: item %d: %s", res.Rejected[0].Index, res.Rejected[0].Error), res.Rejected}
	}
	writeJSON(w, http.StatusAccepted, res)
	return nil
}

// logBody is a record as the API shows it.
type logBody struct {
	ID        int64     `json:"id"`
	Timestamp time.Time `json:"timestamp"`
	Source    string    `json:"source"`
	Seq       int64     `json:"seq"`
	Level     string    `json:"level"`
	Logger    string    `json:"logger"`
	Category  string    `json:"category"`
	Status    string    `json:"status"`
	Code      string    `json:"code"`
	API       string    `json:"api,omitempty"`
	Content   string    `json:"content"`
	Parsed    bool      `json:"parsed"`
}

func newLogBody(r *apilens.LogRecord) logBody {
	return logBody{ID: r.ID, Timestamp: r.Time, Source: r.Source, Seq: r.Seq, Level: r.Level, Logger: r.Logger,
		Category: r.Category, Status: r.Status, Code: r.Code, API: r.API, Content: r.Content, Parsed: r.Parsed}
}

func logBodies(recs []apilens.LogRecord) []logBody {
	out := make([]logBody, len(recs))
	for i := range recs {
		out[i] = newLogBody(&recs[i])
	}
	return out
}

// listLogs answers a page of records of category (all when ""), filtered
// by status and source, ordered by time asc or desc.
func (s *Server) listLogs(w http.ResponseWriter, r *http.Request, category string) error {
	from, to, err := rangeParams(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	lq := apilens.LogQuery{From: from, To: to, Category: category, Status: q.Get("status"), Source: q.Get("source"), API: q.Get("api"), After: q.Get("cursor")}
	switch q.Get("order") {
	case "", "asc":
	case "desc":
		lq.Desc = true
	default:
		return apilens.Errorf(apilens.EINVALID, "order: %q is not asc or desc", q.Get("order"))
	}
	if lq.Limit, err = limitParam(r, 100); err != nil {
		return err
	}
	page, err := s.opts.Logs.Logs(r.Context(), lq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": logBodies(page.Records), "next": page.Next, "from": from, "to": to})
	return nil
}

// statusCount is one bar of the API Token Status chart.
type statusCount struct {
	Status string `json:"status"`
	Code   string `json:"code"`
	Count  int64  `json:"count"`
}

type tokenErrors struct {
	From     time.Time     `json:"from"`
	To       time.Time     `json:"to"`
	Statuses []statusCount `json:"statuses"`
}

// handleTokenErrors is GET /api/v1/loganalyzer/token-errors: the count of
// each access-token status; compare=previous adds the period of the same
// length before it.
func (s *Server) handleTokenErrors(w http.ResponseWriter, r *http.Request, u *apilens.User) error {
	from, to, err := rangeParams(r)
	if err != nil {
		return err
	}
	count := func(from, to time.Time) (*tokenErrors, error) {
		counts, err := s.opts.Logs.CountLogs(r.Context(), apilens.LogQuery{From: from, To: to, Category: apilens.LogAccessToken})
		if err != nil {
			return nil, err
		}
		te := &tokenErrors{From: from, To: to, Statuses: []statusCount{}}
		for _, c := range counts {
			te.Statuses = append(te.Statuses, statusCount{Status: c.Status, Code: c.Code, Count: c.Count})
		}
		return te, nil
	}
	cur, err := count(from, to)
	if err != nil {
		return err
	}
	out := struct {
		*tokenErrors
		Previous *tokenErrors `json:"previous,omitempty"`
	}{tokenErrors: cur}
	if r.URL.Query().Get("compare") == "previous" {
		if out.Previous, err = count(from.Add(-to.Sub(from)), from); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// handleLogCounts is GET /api/v1/loganalyzer/counts: records by
// classification (category, status, code, API), for the overview and the
// per-category pages.
func (s *Server) handleLogCounts(w http.ResponseWriter, r *http.Request, u *apilens.User) error {
	from, to, err := rangeParams(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	counts, err := s.opts.Logs.CountLogs(r.Context(), apilens.LogQuery{From: from, To: to, Category: q.Get("category"), Source: q.Get("source"), API: q.Get("api")})
	if err != nil {
		return err
	}
	type count struct {
		Category string `json:"category"`
		Status   string `json:"status"`
		Code     string `json:"code"`
		API      string `json:"api"`
		Parsed   bool   `json:"parsed"`
		Count    int64  `json:"count"`
	}
	out := make([]count, len(counts))
	for i, c := range counts {
		out[i] = count(c)
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "counts": out})
	return nil
}

// handleLogTimeline is GET /api/v1/loganalyzer/timeline: records per
// category over time, in steps of step (a Go duration; by default one that
// gives about 60 points).
func (s *Server) handleLogTimeline(w http.ResponseWriter, r *http.Request, u *apilens.User) error {
	from, to, err := rangeParams(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	step := logStep(to.Sub(from))
	if v := q.Get("step"); v != "" {
		if step, err = time.ParseDuration(v); err != nil || step < time.Second {
			return apilens.Errorf(apilens.EINVALID, "step: %q is not a duration of a second or more", v)
		}
		if to.Sub(from)/step > 5000 {
			return apilens.Errorf(apilens.EINVALID, "step %v gives more than 5000 points over this range", step)
		}
	}
	points, err := s.opts.Logs.LogTimeline(r.Context(), apilens.LogQuery{From: from, To: to, Category: q.Get("category"), Source: q.Get("source")}, step)
	if err != nil {
		return err
	}
	type point struct {
		Time     time.Time `json:"t"`
		Category string    `json:"category"`
		Count    int64     `json:"count"`
	}
	out := make([]point, len(points))
	for i, p := range points {
		out[i] = point(p)
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "step": step.String(), "points": out})
	return nil
}

// logStep picks a round step giving at least ~60 points over d.
func logStep(d time.Duration) time.Duration {
	for _, s := range []time.Duration{24 * time.Hour, 6 * time.Hour, time.Hour, 15 * time.Minute, 5 * time.Minute, time.Minute, 10 * time.Second} {
		if d/s >= 60 {
			return s
		}
	}
	return time.Second
}

// handleLogContext is GET /api/v1/logs/{id}/context?before=100&after=100.
func (s *Server) handleLogContext(w http.ResponseWriter, r *http.Request, u *apilens.User) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return apilens.Errorf(apilens.EINVALID, "id: %q is not a log record id", r.PathValue("id"))
	}
	n := func(name string) (int, error) {
		v := r.URL.Query().Get(name)
		if v == "" {
			return 100, nil
		}
		k, err := strconv.Atoi(v)
		if err != nil || k < 0 || k > 1000 {
			return 0, apilens.Errorf(apilens.EINVALID, "%s: %q is not a number from 0 to 1000", name, v)
		}
		return k, nil
	}
	before, err := n("before")
	if err != nil {
		return err
	}
	after, err := n("after")
	if err != nil {
		return err
	}
	rec, prev, next, err := s.opts.Logs.LogContext(r.Context(), id, before, after)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"record": newLogBody(rec), "before": logBodies(prev), "after": logBodies(next)})
	return nil
}

// handleLogTail is GET /api/v1/logs/tail: server-sent events, one "logs"
// event per stored batch (filtered by category and source when given),
// a "dropped" event when this client fell behind, and a comment every
// 15 s to keep proxies from closing an idle stream.
func (s *Server) handleLogTail(w http.ResponseWriter, r *http.Request, u *apilens.User) error {
	rc := http.NewResponseController(w)
	q := r.URL.Query()
	category, source := q.Get("category"), q.Get("source")
	hub := s.opts.LogIngest.Hub()
	sub := hub.Subscribe()
	defer hub.Unsubscribe(sub)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": live\n\n")
	if err := rc.Flush(); err != nil {
		return nil // the client is gone, or the connection cannot stream
	}
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-keepAlive.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case recs := <-sub.C:
			var out []logBody
			for i := range recs {
				if (category == "" || recs[i].Category == category) && (source == "" || recs[i].Source == source) {
					out = append(out, newLogBody(&recs[i]))
				}
			}
			if n := sub.Dropped(); n > 0 {
				fmt.Fprintf(w, "event: dropped\ndata: %d\n\n", n)
			}
			if len(out) > 0 {
				b, _ := json.Marshal(out)
				fmt.Fprintf(w, "event: logs\ndata: %s\n\n", b)
			}
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}
