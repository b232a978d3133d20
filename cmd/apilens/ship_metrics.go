package main

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apilens/apilens/ingest"
)

// Shipping of apimMetrics lines: batch limits and log pace.
const (
	shipBatchEvents = 1000 // events a post, at most
	// shipBadLogs is how many lines passed over are logged a minute;
	// the rest are counted only.
	shipBadLogs = 20
)

// metricsScratch is the batch being built from a file's lines.
type metricsScratch struct {
	parser     ingest.APIMMetricsParser
	body       []byte  // the events, NDJSON
	eventLines []int64 // the line number of each event of body
	lines      int     // the lines the batch covers
	bad        []badLine
	other      int // lines that are no apimMetrics lines
	skipped    int // apimMetrics lines of other kinds than response and faulty
}

// badLine is an apimMetrics line that could not be read.
type badLine struct {
	line int64
	err  error
}

func (b *metricsScratch) reset() {
	b.body, b.eventLines, b.bad = b.body[:0], b.eventLines[:0], b.bad[:0]
	b.lines, b.other, b.skipped = 0, 0, 0
}

// add parses one line, number n of its file, into the batch.
func (b *metricsScratch) add(line []byte, n int64) {
	b.lines++
	body, kind, err := b.parser.Parse(b.body, line)
	switch {
	case err != nil:
		b.bad = append(b.bad, badLine{n, err})
	case kind == ingest.APIMEvent:
		b.body = append(body, '\n')
		b.eventLines = append(b.eventLines, n)
	case kind == ingest.APIMSkipped:
		b.skipped++
	default:
		b.other++
	}
}

// sendMetrics posts the events of the whole lines in buf (with idle, of
// an unfinished last line too) in batches of up to shipBatchEvents, and
// moves the offset past each acknowledged batch. Batches are cut at line
// ends only, so the offset always falls at the start of a line.
func (t *tailer) sendMetrics(ctx context.Context, idle bool) error {
	b := &t.sh.metrics
	b.reset()
	start, pos := 0, 0
	for pos < len(t.buf) {
		end, next := len(t.buf), len(t.buf)
		if i := bytes.IndexByte(t.buf[pos:], '\n'); i >= 0 {
			end, next = pos+i, pos+i+1
		} else if !idle {
			break // the gateway is still writing the line
		}
		b.add(t.buf[pos:end], t.line+int64(b.lines)+1)
		pos = next
		if len(b.eventLines) >= shipBatchEvents || len(b.body) >= shipBatchBytes {
			if err := t.postMetrics(ctx, t.buf[start:pos]); err != nil {
				t.buf = t.buf[:copy(t.buf, t.buf[start:])]
				return err
			}
			start = pos
			b.reset()
		}
	}
	var err error
	if pos > start {
		if err = t.postMetrics(ctx, t.buf[start:pos]); err == nil {
			start = pos
		}
	}
	t.buf = t.buf[:copy(t.buf, t.buf[start:])]
	return err
}

// postMetrics posts the batch built from region, the bytes of the file
// at the offset, and once the server has acknowledged it, logs what was
// passed over and moves the offset past region. A region without events
// only moves the offset.
func (t *tailer) postMetrics(ctx context.Context, region []byte) error {
	b := &t.sh.metrics
	var ack eventsAck
	if n := int64(len(b.eventLines)); n > 0 {
		t.sh.sent.Add(n)
		var err error
		ack, err = t.sh.events.Post(ctx, t.batchKey(region), b.body)
		if err != nil {
			t.sh.sent.Add(-n)
			if errors.Is(err, errEventsRefused) {
				t.sh.logger.Error("the server refused the events", "file", t.f.Name(), "line", b.eventLines[0], "err", err)
			}
			return err
		}
		if ack.Duplicate {
			t.sh.logger.Debug("the server had the batch already (a repeat of a post whose answer was lost)", "file", t.f.Name(), "line", b.eventLines[0])
		}
		t.sh.acked.Add(n - int64(len(ack.Rejected)))
	}
	// Lines passed over are logged in the file's order.
	type passed struct {
		line        int64
		msg, reason string
	}
	var over []passed
	for _, r := range ack.Rejected {
		var line int64 // 0: the server named no event of the batch
		if r.Index >= 0 && r.Index < len(b.eventLines) {
			line = b.eventLines[r.Index]
		}
		over = append(over, passed{line, "the server rejected the event", r.Error})
	}
	for _, l := range b.bad {
		over = append(over, passed{l.line, "cannot read the apimMetrics line", l.err.Error()})
	}
	slices.SortStableFunc(over, func(x, y passed) int { return cmp.Compare(x.line, y.line) })
	for _, p := range over {
		t.sh.bad.log(p.msg, t.f.Name(), p.line, p.reason)
	}
	t.sh.rejected.Add(int64(len(ack.Rejected)))
	t.sh.badLines.Add(int64(len(b.bad)))
	t.sh.skipped.Add(int64(b.skipped))
	t.sh.other.Add(int64(b.other))
	return t.advance(len(region), b.lines)
}

// lineLog logs lines passed over, at most shipBadLogs a minute, so that a
// file of garbage cannot flood the shipper's own log; the rest are only
// counted, and how many went unlogged is told when the minute is over.
// It is used by the polling goroutine only.
type lineLog struct {
	logger     *slog.Logger
	since      time.Time // start of the current minute
	logged     int
	suppressed int
}

func (l *lineLog) log(msg, file string, line int64, reason string) {
	if now := time.Now(); now.Sub(l.since) >= time.Minute {
		l.flush()
		l.since, l.logged = now, 0
	}
	if l.logged >= shipBadLogs {
		l.suppressed++
		return
	}
	l.logged++
	l.logger.Warn(msg, "file", file, "line", line, "err", reason)
}

// flush tells how many lines went unlogged since it last did.
func (l *lineLog) flush() {
	if l.suppressed > 0 {
		l.logger.Warn("more lines were passed over than logged; the progress line counts them all", "unlogged", l.suppressed)
		l.suppressed = 0
	}
}

// eventClient posts NDJSON batches of 4.x events to a server's
// POST /api/v1/events, as simulate.LogClient posts log lines.
type eventClient struct {
	// URL is the server's base URL; events go to URL/api/v1/events.
	URL string
	// User and Password are a publisher account for HTTP Basic auth.
	User, Password string
	// Token is a bearer API token, used instead of User and Password.
	Token string
	// Client is the HTTP client; default one with a two-minute timeout.
	Client *http.Client
	// MaxRetries bounds the retries of a post after network errors and
	// 5xx answers without Retry-After; 0 means 10, negative no bound.
	// Back-pressure (429, or 503 with Retry-After) is waited out for as
	// long as the context allows.
	MaxRetries int
	// OnRetry, when set, hears of every failed attempt that will be
	// repeated, and how long until it is.
	OnRetry func(err error, wait time.Duration)
}

// eventsAck is the server's answer to a batch of events.
type eventsAck struct {
	Accepted int                `json:"accepted"`
	Rejected []ingest.Rejection `json:"rejected"`
	// Duplicate is true when the server had stored the batch already.
	Duplicate bool `json:"duplicate"`
}

// errEventsRefused wraps the server's refusal of a post (a 4xx answer
// other than 429 that rejects no single event): repeating it cannot
// succeed.
var errEventsRefused = errors.New("refused")

// errRetryable is a failed attempt that may succeed when repeated.
type errRetryable struct {
	err          error
	after        time.Duration // Retry-After; <0 when absent
	backPressure bool
}

func (e *errRetryable) Error() string { return e.err.Error() }

var defaultEventClient = &http.Client{Timeout: 2 * time.Minute}

func (c *eventClient) endpoint() string {
	return strings.TrimSuffix(strings.TrimRight(c.URL, "/"), "/api/v1/events") + "/api/v1/events"
}

// Post sends body, gzipped, and waits until the server acknowledges it,
// retrying with back-off after network errors, 429 and 5xx answers and
// honouring Retry-After. Every attempt carries the Idempotency-Key key,
// so a post whose answer was lost is stored once when repeated. A batch
// none of whose events the server takes (400 with per-item reasons) is
// an answer, not an error: its events are in Rejected.
func (c *eventClient) Post(ctx context.Context, key string, body []byte) (eventsAck, error) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // the level is valid
	_, _ = zw.Write(body)                              // writes to a bytes.Buffer do not fail
	_ = zw.Close()
	failures := 0
	for attempt := 0; ; attempt++ {
		ack, err := c.post(ctx, key, buf.Bytes())
		if err == nil {
			return ack, nil
		}
		var re *errRetryable
		if !errors.As(err, &re) || ctx.Err() != nil {
			return eventsAck{}, err
		}
		if !re.backPressure {
			failures++
			if limit := cmp.Or(c.MaxRetries, 10); limit > 0 && failures > limit {
				return eventsAck{}, fmt.Errorf("events not delivered after %d retries: %w", limit, re.err)
			}
		}
		wait := re.after
		if wait < 0 {
			wait = shipBackoff(attempt)
		}
		if c.OnRetry != nil {
			c.OnRetry(re.err, wait)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return eventsAck{}, ctx.Err()
		case <-timer.C:
		}
	}
}

func (c *eventClient) post(ctx context.Context, key string, gz []byte) (eventsAck, error) {
	u := c.endpoint()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(gz))
	if err != nil {
		return eventsAck{}, fmt.Errorf("post events: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("User-Agent", "apilens-ship")
	switch {
	case c.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.Token)
	case c.User != "" || c.Password != "":
		req.SetBasicAuth(c.User, c.Password)
	}
	resp, err := cmp.Or(c.Client, defaultEventClient).Do(req)
	if err != nil {
		return eventsAck{}, &errRetryable{err: fmt.Errorf("post events to %s: %w", u, err), after: -1}
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil && resp.StatusCode/100 != 2 {
		return eventsAck{}, &errRetryable{err: fmt.Errorf("read answer of %s: %w", u, err), after: -1}
	}
	fail := func() error {
		msg := strings.TrimSpace(string(reply))
		if len(msg) > 512 {
			msg = msg[:512] + "…"
		}
		return fmt.Errorf("POST %s: %s: %s", u, resp.Status, msg)
	}
	switch code := resp.StatusCode; {
	case code/100 == 2:
		var ack eventsAck
		if err := json.Unmarshal(reply, &ack); err != nil {
			return eventsAck{}, fmt.Errorf("POST %s: %s with an answer that is not JSON: %w", u, resp.Status, err)
		}
		return ack, nil
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		after := shipRetryAfter(resp.Header.Get("Retry-After"))
		return eventsAck{}, &errRetryable{err: fail(), after: after, backPressure: code == http.StatusTooManyRequests || after >= 0}
	case code >= 500:
		return eventsAck{}, &errRetryable{err: fail(), after: shipRetryAfter(resp.Header.Get("Retry-After"))}
	case code == http.StatusBadRequest:
		// No event of the batch was valid: the server says why of each.
		var ack eventsAck
		if json.Unmarshal(reply, &ack) == nil && len(ack.Rejected) > 0 {
			ack.Accepted = 0
			return ack, nil
		}
	}
	return eventsAck{}, fmt.Errorf("%w: %w", errEventsRefused, fail())
}

// shipBackoff is the wait before retry n+1: exponential with full
// jitter, from 100 ms up to 10 s.
func shipBackoff(n int) time.Duration {
	d := min(100*time.Millisecond<<min(n, 7), 10*time.Second)
	return d/2 + rand.N(d/2+1)
}

// shipRetryAfter reads a Retry-After header in seconds or as an HTTP
// date; -1 when there is none, and at most five minutes.
func shipRetryAfter(h string) time.Duration {
	if h == "" {
		return -1
	}
	var d time.Duration
	if n, err := strconv.Atoi(strings.TrimSpace(h)); err == nil {
		d = time.Duration(max(n, 0)) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = max(time.Until(t), 0)
	} else {
		return -1
	}
	return min(d, 5*time.Minute)
}
