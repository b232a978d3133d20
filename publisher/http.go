package publisher

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// httpTransport posts batches as NDJSON to apilens's /api/v1/events with
// Basic auth. Each batch carries an Idempotency-Key, the same on every
// attempt, so a batch re-routed after a lost answer is counted once.
type httpTransport struct {
	o      Options
	client *http.Client
	own    bool // client was made here: its idle connections close with the publisher
}

func newHTTPTransport(o Options) *httpTransport {
	c := o.HTTPClient
	if c == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = o.TLSConfig
		return &httpTransport{o: o, client: &http.Client{Transport: tr}, own: true}
	}
	return &httpTransport{o: o, client: c}
}

type httpConn struct {
	t   *httpTransport
	url string
}

// dial connects to nothing: the HTTP client keeps its own connections,
// and a failure shows on the first post.
func (t *httpTransport) dial(_ context.Context, recv, _ Endpoint) (conn, error) {
	return &httpConn{t: t, url: recv.String() + "/api/v1/events"}, nil
}

func (c *httpConn) publish(ctx context.Context, b *batch) (int, error) {
	if len(b.body) == 0 {
		for i := range b.events {
			b.body = AppendNDJSON(b.body, &b.events[i])
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.t.o.SocketTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(b.body))
	if err != nil {
		return 0, fmt.Errorf("post events: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Idempotency-Key", b.key)
	req.Header.Set("User-Agent", "apilens-publisher")
	req.SetBasicAuth(c.t.o.User, c.t.o.Password)
	resp, err := c.t.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post events to %s: %w", c.url, err)
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, fmt.Errorf("read the answer of %s: %w", c.url, err)
	}
	switch code := resp.StatusCode; {
	case code/100 == 2:
		var a struct {
			Rejected []json.RawMessage `json:"rejected"`
		}
		_ = json.Unmarshal(reply, &a) // an answer without the list rejected nothing
		return min(len(a.Rejected), len(b.events)), nil
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return 0, fmt.Errorf("%w: %w", errAuthentication, answerError(c.url, resp, reply))
	case code == http.StatusBadRequest || code == http.StatusRequestEntityTooLarge:
		// No event of the batch is valid, or the batch is over the
		// server's limit: sending it elsewhere would not help.
		return 0, fmt.Errorf("%w: %w", errRejected, answerError(c.url, resp, reply))
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		after := retryAfter(resp.Header.Get("Retry-After"))
		if after >= 0 {
			return 0, &busyError{after: after, err: answerError(c.url, resp, reply)}
		}
		if code == http.StatusTooManyRequests {
			return 0, &busyError{after: time.Second, err: answerError(c.url, resp, reply)}
		}
	}
	return 0, answerError(c.url, resp, reply)
}

func (c *httpConn) relogin(context.Context) error { return nil }

func (c *httpConn) close(context.Context, bool) {
	if c.t.own {
		c.t.client.CloseIdleConnections()
	}
}

// answerError quotes the receiver's answer.
func answerError(url string, resp *http.Response, reply []byte) error {
	msg := strings.TrimSpace(string(reply))
	if len(msg) > 512 {
		msg = msg[:512] + "…"
	}
	if msg == "" {
		return fmt.Errorf("POST %s: %s", url, resp.Status)
	}
	return fmt.Errorf("POST %s: %s: %s", url, resp.Status, msg)
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date; -1
// when there is none, and at most five minutes.
func retryAfter(h string) time.Duration {
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
