package publisher

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// logBuffer is a slog handler's output that tests read while the
// publisher writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newPublisher starts a publisher of receivers rs in one group joined by
// sep (',' or '|'), with test-sized settings, closed at cleanup.
func newPublisher(t *testing.T, o Options, sep string, rs ...*receiver) *Publisher {
	t.Helper()
	var recv, auth []string
	for _, r := range rs {
		recv, auth = append(recv, r.url()), append(auth, r.authURL())
	}
	o.ReceiverURLs, o.AuthURLs = strings.Join(recv, sep), strings.Join(auth, sep)
	if o.User == "" {
		o.User, o.Password = "gw", "secret"
	}
	_, o.TLSConfig = testTLS()
	if o.ReconnectInterval == 0 {
		o.ReconnectInterval = 50 * time.Millisecond
	}
	if o.SocketTimeout == 0 {
		o.SocketTimeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = quiet
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		p.Close(ctx)
	})
	return p
}

func closePublisher(t *testing.T, p *Publisher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// publishPaced publishes events 0..n-1 in chunks, pausing between
// chunks so that a receiver dies while the stream is going on.
func publishPaced(t *testing.T, p *Publisher, n int) {
	t.Helper()
	for i := 0; i < n; i += 100 {
		if err := p.Publish(context.Background(), testEvents(i, min(100, n-i))...); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestFailOverAndLoadBalance publishes through three binary receivers
// while one of them dies, and checks that every event arrived once.
//
// The receiver dies between batches: once it has stored its share, it
// refuses the next batch (without storing it) and its server is closed.
// That is the case the publisher can get exactly right. A receiver
// killed after it stored a batch but before its OK reached the publisher
// gets that batch again elsewhere: the data-bridge has no idempotency
// key, so delivery is at least once; TestHardKill covers that window.
func TestFailOverAndLoadBalance(t *testing.T) {
	for _, tt := range []struct {
		name   string
		sep    string
		victim int
	}{
		{"load-balance", ",", 1},
		{"fail-over", "|", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			const n = 6000
			sinks := []*sink{{}, {}, {}}
			sinks[tt.victim].refuseAfter, sinks[tt.victim].dying = 1000, make(chan struct{})
			var rs []*receiver
			for _, s := range sinks {
				rs = append(rs, startReceiver(t, s))
			}
			var wg sync.WaitGroup
			wg.Go(func() {
				<-sinks[tt.victim].dying
				rs[tt.victim].stop()
			})
			p := newPublisher(t, Options{BatchSize: 50}, tt.sep, rs...)
			publishPaced(t, p, n)
			closePublisher(t, p)
			wg.Wait()

			seen := map[int]int{}
			for i, s := range sinks {
				t.Logf("receiver %d stored %d events", i, s.count())
				for k, c := range s.seen {
					seen[k] += c
				}
			}
			for i := range n {
				if seen[i] != 1 {
					t.Fatalf("event %d arrived %d times", i, seen[i])
				}
			}
			if len(seen) != n {
				t.Fatalf("%d distinct events arrived, want %d", len(seen), n)
			}
			if got := sinks[tt.victim].count(); got != 1000 {
				t.Errorf("the receiver that died stored %d events, want 1000", got)
			}
			switch tt.sep {
			case ",":
				for i, s := range sinks {
					if i != tt.victim && s.count() < n/4 {
						t.Errorf("survivor %d stored only %d of %d events: not load-balanced", i, s.count(), n)
					}
				}
			case "|":
				if sinks[1].count() != n-1000 || sinks[2].count() != 0 {
					t.Errorf("after the first failed, the second stored %d and the third %d; want %d and 0", sinks[1].count(), sinks[2].count(), n-1000)
				}
			}
			st := p.Stats()[0]
			if st.Sent != n || st.Dropped != 0 || st.Rejected != 0 || st.Retries < 1 {
				t.Errorf("stats %+v: want %d sent, none dropped or rejected, a retry", st, n)
			}
		})
	}
}

// TestHardKill kills a load-balanced receiver at an arbitrary moment:
// no event may be lost, and at most the batch in flight on the killed
// connection may arrive twice (stored, but its OK never sent). The
// duplicates are reported, not failed on.
func TestHardKill(t *testing.T) {
	const n, batch = 6000, 50
	sinks := []*sink{{}, {}, {}}
	var rs []*receiver
	for _, s := range sinks {
		rs = append(rs, startReceiver(t, s))
	}
	p := newPublisher(t, Options{BatchSize: batch}, ",", rs...)
	var wg sync.WaitGroup
	wg.Go(func() {
		for sinks[0].count() < 700 {
			time.Sleep(time.Millisecond)
		}
		rs[0].stop()
	})
	publishPaced(t, p, n)
	closePublisher(t, p)
	wg.Wait()
	seen := map[int]int{}
	for _, s := range sinks {
		for k, c := range s.seen {
			seen[k] += c
		}
	}
	dups := 0
	for i := range n {
		switch c := seen[i]; {
		case c == 0:
			t.Fatalf("event %d was lost", i)
		case c > 1:
			dups += c - 1
		}
	}
	if dups > batch {
		t.Errorf("%d duplicates: more than the one batch in flight (%d)", dups, batch)
	}
	t.Logf("hard kill: %d events arrived twice (the at-least-once window)", dups)
}

// TestDropsAndRedelivery: with the only receiver down, the queue fills
// and the rest is dropped, counted and logged; once the receiver is back,
// what was queued arrives.
func TestDropsAndRedelivery(t *testing.T) {
	s := &sink{}
	r := startReceiver(t, s)
	var logs logBuffer
	p := newPublisher(t, Options{QueueSize: 100, BatchSize: 10, Logger: logs.logger()}, "|", r)
	if err := p.Publish(context.Background(), testEvents(0, 10)...); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first batch", func() bool { return s.count() == 10 })
	r.stop()

	const n = 300
	for i := 10; i < 10+n; i += 30 {
		if err := p.Publish(context.Background(), testEvents(i, 30)...); err != nil {
			t.Fatal(err)
		}
	}
	st := p.Stats()[0]
	// The queue holds 100, and the sender one batch of 10 it cannot send.
	if st.Dropped < n-110 || st.Dropped > n-100 {
		t.Errorf("dropped %d of %d with a queue of 100 and a batch of 10 in hand", st.Dropped, n)
	}
	if !strings.Contains(logs.String(), "events dropped") || !strings.Contains(logs.String(), "dropped_total=") {
		t.Errorf("no warning about the drops in the log:\n%s", logs.String())
	}
	waitFor(t, "the warning about the receiver", func() bool { return strings.Contains(logs.String(), "receiver unavailable") })

	time.Sleep(150 * time.Millisecond) // a few reconnection attempts fail
	r.start()
	closePublisher(t, p)
	st = p.Stats()[0]
	if st.Sent+st.Dropped != n+10 || st.Sent != int64(s.count()) || st.Queued != 0 {
		t.Errorf("stats %+v, receiver stored %d: want sent + dropped = %d, sent = stored", st, s.count(), n+10)
	}
	for k, c := range s.seen {
		if c != 1 {
			t.Errorf("event %d arrived %d times", k, c)
		}
	}
	if !strings.Contains(logs.String(), "receiver available again") {
		t.Errorf("no line about the reconnection in the log:\n%s", logs.String())
	}
}

// TestCloseGivesUp: with no receiver, Close returns when its context
// ends and counts what it could not deliver.
func TestCloseGivesUp(t *testing.T) {
	r := startReceiver(t, &sink{})
	p := newPublisher(t, Options{}, "|", r)
	r.stop()
	if err := p.Publish(context.Background(), testEvents(0, 25)...); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := p.Close(ctx)
	if err == nil || !strings.Contains(err.Error(), "25 events not delivered") {
		t.Errorf("Close: %v, want 25 events not delivered", err)
	}
	if err := p.Publish(context.Background(), testEvent(0)); err != ErrClosed {
		t.Errorf("Publish after Close: %v, want ErrClosed", err)
	}
	if st := p.Stats()[0]; st.Dropped != 25 {
		t.Errorf("stats %+v: want 25 dropped", st)
	}
}

// TestWrongPassword: the receiver refuses the login; the endpoint is
// down, logged, and the events wait for it.
func TestWrongPassword(t *testing.T) {
	s := &sink{}
	r := startReceiver(t, s)
	var logs logBuffer
	p := newPublisher(t, Options{User: "gw", Password: "wrong", Logger: logs.logger()}, "|", r)
	if err := p.Publish(context.Background(), testEvent(1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the failed login in the log", func() bool { return strings.Contains(logs.String(), "authentication failed") })
	if s.count() != 0 {
		t.Errorf("the receiver stored %d events without a login", s.count())
	}
}

// TestSessionExpired: when the receiver's session has expired, the
// publisher logs in again and retries the batch once, on the same
// endpoint.
func TestSessionExpired(t *testing.T) {
	for _, thrift := range []bool{false, true} {
		t.Run(map[bool]string{false: "binary", true: "thrift"}[thrift], func(t *testing.T) {
			var offset atomic.Int64
			s := &sink{}
			r := startReceiverOf(t, &receiver{sink: s, thrift: thrift, now: func() time.Time {
				return time.Now().Add(time.Duration(offset.Load()))
			}})
			o := Options{Transport: Binary}
			if thrift {
				o.Transport = Thrift
			}
			p := newPublisher(t, o, "|", r)
			p.Publish(context.Background(), testEvents(0, 5)...)
			waitFor(t, "the first batch", func() bool { return s.count() == 5 })
			offset.Store(int64(31 * time.Minute))
			p.Publish(context.Background(), testEvents(5, 5)...)
			waitFor(t, "the batch after the session expired", func() bool { return s.count() == 10 })
			closePublisher(t, p)
			if st := p.Stats()[0]; st.Sent != 10 || st.Retries != 1 {
				t.Errorf("stats %+v: want 10 sent, 1 retry", st)
			}
		})
	}
}

// TestThrift publishes over the Thrift transport, load-balanced over two
// receivers.
func TestThrift(t *testing.T) {
	s1, s2 := &sink{}, &sink{}
	r1 := startReceiverOf(t, &receiver{sink: s1, thrift: true})
	r2 := startReceiverOf(t, &receiver{sink: s2, thrift: true})
	p := newPublisher(t, Options{Transport: Thrift, BatchSize: 20}, ",", r1, r2)
	publishPaced(t, p, 1000)
	closePublisher(t, p)
	if s1.count()+s2.count() != 1000 || s1.count() == 0 || s2.count() == 0 {
		t.Errorf("receivers stored %d and %d events, want 1000 between them, some each", s1.count(), s2.count())
	}
}

// TestGroups: every group gets every event.
func TestGroups(t *testing.T) {
	a, b := &sink{}, &sink{}
	ra, rb := startReceiver(t, a), startReceiver(t, b)
	o := Options{
		ReceiverURLs: fmt.Sprintf("{%s},{%s}", ra.url(), rb.url()),
		AuthURLs:     fmt.Sprintf("{%s},{%s}", ra.authURL(), rb.authURL()),
		User:         "gw", Password: "secret", Logger: quiet,
	}
	_, o.TLSConfig = testTLS()
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	publishPaced(t, p, 500)
	closePublisher(t, p)
	if a.count() != 500 || b.count() != 500 {
		t.Errorf("groups stored %d and %d events, want 500 each", a.count(), b.count())
	}
	if st := p.Stats(); len(st) != 2 || st[0].Sent != 500 || st[1].Sent != 500 {
		t.Errorf("stats %+v", st)
	}
}

// TestHTTP: the HTTP transport posts NDJSON with Basic auth, keeps the
// Idempotency-Key of a batch it re-routes, counts the events the server
// rejected one by one, and waits out back-pressure.
func TestHTTP(t *testing.T) {
	var mu sync.Mutex
	keys := map[string][]string{} // server → keys
	lines := 0
	serve := func(name string, status func(call int) (int, string)) *httptest.Server {
		var calls atomic.Int64
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user, pw, _ := r.BasicAuth()
			body, _ := io.ReadAll(r.Body)
			if r.URL.Path != "/base/api/v1/events" || user != "gw" || pw != "secret" || r.Header.Get("Content-Type") != "application/x-ndjson" {
				http.Error(w, "bad request "+r.URL.Path, http.StatusBadRequest)
				return
			}
			code, answer := status(int(calls.Add(1)))
			mu.Lock()
			keys[name] = append(keys[name], r.Header.Get("Idempotency-Key"))
			if code == http.StatusAccepted {
				lines += bytes.Count(body, []byte("\n"))
			}
			mu.Unlock()
			if code == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "0")
			}
			w.WriteHeader(code)
			io.WriteString(w, answer)
		}))
	}
	// The first server fails once, then is busy once, then takes
	// batches, rejecting one event of each.
	first := serve("first", func(call int) (int, string) {
		switch call {
		case 1:
			return http.StatusInternalServerError, "boom"
		case 2:
			return http.StatusTooManyRequests, "slow down"
		}
		return http.StatusAccepted, `{"accepted":9,"rejected":[{"index":3,"error":"bad"}]}`
	})
	defer first.Close()
	second := serve("second", func(int) (int, string) { return http.StatusAccepted, `{"accepted":10}` })
	defer second.Close()

	o := Options{
		ReceiverURLs: first.URL + "/base/|" + second.URL + "/base",
		User:         "gw", Password: "secret", BatchSize: 10, Logger: quiet,
		ReconnectInterval: 20 * time.Millisecond,
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if p.Transport() != HTTP {
		t.Errorf("transport %q for http URLs, want http", p.Transport())
	}
	p.Publish(context.Background(), testEvents(0, 10)...)
	waitFor(t, "the first batch", func() bool { return p.Stats()[0].Batches == 1 })
	time.Sleep(50 * time.Millisecond) // the first server is tried again
	p.Publish(context.Background(), testEvents(10, 10)...)
	waitFor(t, "the second batch", func() bool { return p.Stats()[0].Batches == 2 })
	closePublisher(t, p)

	mu.Lock()
	defer mu.Unlock()
	// Batch 1: first (500) → second (OK), same key. Batch 2: first is back
	// after the reconnect interval: 429, then OK.
	if len(keys["second"]) != 1 || keys["first"][0] != keys["second"][0] {
		t.Errorf("keys %v: the re-routed batch should keep its key", keys)
	}
	if len(keys["first"]) != 3 || keys["first"][1] != keys["first"][2] || keys["first"][1] == keys["first"][0] {
		t.Errorf("keys %v: the batch retried after 429 should keep its key", keys)
	}
	st := p.Stats()[0]
	if st.Sent != 19 || st.Rejected != 1 || st.Batches != 2 || st.Retries != 2 || lines != 20 {
		t.Errorf("stats %+v, %d lines accepted: want 19 sent, 1 rejected, 2 batches, 2 retries, 20 lines", st, lines)
	}
}

func TestNewErrors(t *testing.T) {
	for _, tt := range []struct {
		o   Options
		msg string
	}{
		{Options{ReceiverURLs: "tcp://a:1,tcp://b:1|tcp://c:1"}, "mixes"},
		{Options{ReceiverURLs: "http://a:1", Transport: Binary}, "the binary transport takes tcp:// and ssl:// URLs"},
		{Options{ReceiverURLs: "tcp://a:1", Transport: HTTP}, "the http transport takes http:// and https:// URLs"},
		{Options{ReceiverURLs: "http://a:1", AuthURLs: "ssl://a:2"}, "the http transport has none"},
		{Options{ReceiverURLs: "tcp://a:1", Transport: Thrift, AuthURLs: "tcp://a:2"}, "the thrift transport takes ssl:// URLs"},
		{Options{ReceiverURLs: "tcp://a:1", Transport: "carrier-pigeon"}, `unknown transport "carrier-pigeon"`},
		{Options{ReceiverURLs: "tcp://a:1,tcp://b:1", AuthURLs: "ssl://a:2"}, "group 1 has 1 URLs"},
		{Options{ReceiverURLs: "tcp://a:65500"}, "give the auth URLs"},
	} {
		if _, err := New(tt.o); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("New(%+v): %v, want %q", tt.o, err, tt.msg)
		}
	}
}

// TestBlockWhenFull: Publish waits for room instead of dropping, and
// gives up when its context ends.
func TestBlockWhenFull(t *testing.T) {
	s := &sink{}
	r := startReceiver(t, s)
	p := newPublisher(t, Options{QueueSize: 10, BatchSize: 5, BlockWhenFull: true}, "|", r)
	if err := p.Publish(context.Background(), testEvents(0, 500)...); err != nil {
		t.Fatal(err)
	}
	closePublisher(t, p)
	if st := p.Stats()[0]; st.Sent != 500 || st.Dropped != 0 || s.count() != 500 {
		t.Errorf("stats %+v, stored %d: want 500 sent, none dropped", st, s.count())
	}

	r2 := startReceiver(t, &sink{})
	p2 := newPublisher(t, Options{QueueSize: 10, BatchSize: 5, BlockWhenFull: true}, "|", r2)
	r2.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := p2.Publish(ctx, testEvents(0, 50)...); err == nil || !strings.Contains(err.Error(), "waiting for room") {
		t.Errorf("Publish into a full queue: %v, want a timeout", err)
	}
}
