package simulate

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// LogClient posts gateway log text to a receiver's POST /api/v1/logs, as
// `apilens simulate --logs` and `apilens ship` do.
type LogClient struct {
	// URL is the receiver's base URL; logs go to URL/api/v1/logs.
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

// LogAck is the receiver's answer to a post of log lines.
type LogAck struct {
	// Accepted is the number of records stored, Unparsed how many of them
	// no carbon layout matched (kept as raw records).
	Accepted int `json:"accepted"`
	Unparsed int `json:"unparsed"`
}

// ErrLogRejected wraps the receiver's refusal of a post (a 4xx answer
// other than 429): repeating the same post cannot succeed.
var ErrLogRejected = errors.New("rejected")

// Post sends body, the lines of source in format (carbon, json), gzipped,
// and waits until the receiver acknowledges it (202), retrying with
// back-off after network errors, 429 and 5xx answers and honouring
// Retry-After. Every attempt carries the Idempotency-Key key (a random
// one when key is ""), so a post whose answer was lost is stored once
// when repeated.
func (c *LogClient) Post(ctx context.Context, key, source, format string, body []byte) (LogAck, error) {
	if key == "" {
		b := make([]byte, 16)
		rand.Read(b)
		key = hex.EncodeToString(b)
	}
	gz := gzipBytes(body)
	failures := 0
	for attempt := 0; ; attempt++ {
		ack, err := c.post(ctx, key, source, format, gz)
		if err == nil {
			return ack, nil
		}
		var re *errRetry
		if !errors.As(err, &re) || ctx.Err() != nil {
			return LogAck{}, err
		}
		if !re.backPressure {
			failures++
			limit := c.MaxRetries
			if limit == 0 {
				limit = 10
			}
			if limit > 0 && failures > limit {
				return LogAck{}, fmt.Errorf("log lines of %q not delivered after %d retries: %w", source, limit, re.err)
			}
		}
		wait := re.after
		if wait < 0 {
			wait = backoff(attempt)
		}
		if c.OnRetry != nil {
			c.OnRetry(re.err, wait)
		}
		if !sleepUntil(ctx, time.Now().Add(wait)) {
			return LogAck{}, ctx.Err()
		}
	}
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // the level is valid
	_, _ = zw.Write(b)                                 // writes to a bytes.Buffer do not fail
	_ = zw.Close()
	return buf.Bytes()
}

// logsURL returns the logs URL of the receiver at base for a source.
func logsURL(base, source, format string) string {
	base = strings.TrimSuffix(strings.TrimRight(base, "/"), "/api/v1/logs")
	q := url.Values{"format": {format}, "source": {source}}
	return base + "/api/v1/logs?" + q.Encode()
}

func (c *LogClient) post(ctx context.Context, key, source, format string, gz []byte) (LogAck, error) {
	u := logsURL(c.URL, source, format)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(gz))
	if err != nil {
		return LogAck{}, fmt.Errorf("post logs: %w", err)
	}
	ctype := "text/plain; charset=utf-8"
	if format == "json" {
		ctype = "application/x-ndjson"
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("User-Agent", "apilens-ship")
	switch {
	case c.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.Token)
	case c.User != "" || c.Password != "":
		req.SetBasicAuth(c.User, c.Password)
	}
	client := c.Client
	if client == nil {
		client = defaultLogClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return LogAck{}, &errRetry{err: fmt.Errorf("post logs to %s: %w", u, err), after: -1}
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil && resp.StatusCode/100 != 2 {
		return LogAck{}, &errRetry{err: fmt.Errorf("read answer of %s: %w", u, err), after: -1}
	}
	fail := func() error {
		msg := strings.TrimSpace(string(reply))
		if len(msg) > 512 {
			msg = msg[:512] + "…"
		}
		return fmt.Errorf("POST %s: %s: %s", u, resp.Status, msg)
	}
	switch {
	case resp.StatusCode/100 == 2:
		var ack LogAck
		if err := json.Unmarshal(reply, &ack); err != nil {
			return LogAck{}, fmt.Errorf("POST %s: %s with an answer that is not JSON: %w", u, resp.Status, err)
		}
		return ack, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		after := retryAfter(resp.Header.Get("Retry-After"))
		return LogAck{}, &errRetry{err: fail(), after: after, backPressure: resp.StatusCode == http.StatusTooManyRequests || after >= 0}
	case resp.StatusCode >= 500:
		return LogAck{}, &errRetry{err: fail(), after: retryAfter(resp.Header.Get("Retry-After"))}
	default:
		return LogAck{}, fmt.Errorf("%w: %w", ErrLogRejected, fail())
	}
}

var defaultLogClient = &http.Client{Timeout: 2 * time.Minute}
