package simulate

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apilens/apilens"
)

// receiver is a fake apilens events endpoint that checks what a publisher
// must do and counts each batch once, whatever the retries.
type receiver struct {
	t              *testing.T
	user, password string
	token          string
	// refuse503 and hangUp pick the first attempts of some batches to
	// answer 503 Retry-After: 0, or to drop without an answer.
	refuse503, hangUp func(key string) bool
	rejectEvery       int // reject event 0 of every n-th batch, by arrival

	mu       sync.Mutex
	bodies   map[string][]byte // key → body of the first attempt
	attempts map[string]int
	acked    map[string]bool
	byKey    map[string][]apilens.Event
	order    []string // keys in the order they were acknowledged
	counted  int
	rejected int
	refused  int
}

func newReceiver(t *testing.T) *receiver {
	return &receiver{t: t, user: "publisher", password: "s3cret",
		bodies: map[string][]byte{}, attempts: map[string]int{}, acked: map[string]bool{}, byKey: map[string][]apilens.Event{}}
}

func hashed(key string, mod uint32) bool {
	h := fnv.New32a()
	h.Write([]byte(key))
	return h.Sum32()%mod == 0
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := rv.t
	if r.Method != http.MethodPost || r.URL.Path != "/api/v1/events" {
		t.Errorf("%s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	if rv.token != "" {
		if r.Header.Get("Authorization") != "Bearer "+rv.token {
			http.Error(w, `{"error":"invalid token"}`, http.StatusUnauthorized)
			return
		}
	} else if u, p, ok := r.BasicAuth(); !ok || u != rv.user || p != rv.password {
		http.Error(w, `{"error":"invalid credentials"}`, http.StatusUnauthorized)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type %q", ct)
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		t.Error("no Idempotency-Key")
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("read body: %v", err)
		return
	}
	body := raw
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Errorf("gzip: %v", err)
			return
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Errorf("gunzip: %v", err)
			return
		}
	}

	rv.mu.Lock()
	defer rv.mu.Unlock()
	first, seen := rv.bodies[key]
	if !seen {
		rv.bodies[key] = raw
	} else if !bytes.Equal(first, raw) {
		t.Errorf("batch %s retried with a different body", key)
	}
	rv.attempts[key]++
	if rv.attempts[key] == 1 && rv.hangUp != nil && rv.hangUp(key) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	if rv.attempts[key] == 1 && rv.refuse503 != nil && rv.refuse503(key) {
		rv.refused++
		w.Header().Set("Retry-After", "0")
		http.Error(w, `{"error":"busy"}`, http.StatusServiceUnavailable)
		return
	}
	var evs []apilens.Event
	for _, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
		var e apilens.Event
		if err := json.Unmarshal(line, &e); err != nil {
			t.Errorf("bad event %s: %v", line, err)
		}
		evs = append(evs, e)
	}
	type rej struct {
		Index int    `json:"index"`
		Error string `json:"error"`
	}
	rejected := []rej{}
	if !rv.acked[key] {
		rv.acked[key] = true
		rv.order = append(rv.order, key)
		rv.byKey[key] = evs
		rv.counted += len(evs)
		if rv.rejectEvery > 0 && len(rv.order)%rv.rejectEvery == 0 {
			rejected = append(rejected, rej{0, "requestTimestamp: test rejection"})
			rv.rejected++
		}
	}
	w.WriteHeader(http.StatusAccepted)
	json.NewEncoder(w).Encode(map[string]any{"accepted": len(evs) - len(rejected), "rejected": rejected})
}

func TestRunRetriesWithoutDoubling(t *testing.T) {
	rv := newReceiver(t)
	rv.refuse503 = func(k string) bool { return hashed(k, 3) }
	rv.hangUp = func(k string) bool { return hashed(k+"x", 7) }
	rv.rejectEvery = 5
	srv := httptest.NewServer(rv)
	defer srv.Close()

	var progress bytes.Buffer
	st, err := Run(t.Context(), RunOptions{
		Options: Options{Seed: 3}, URL: srv.URL + "/", User: rv.user, Password: rv.password,
		BatchSize: 100, Concurrency: 4, Count: 5000, Progress: &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	rv.mu.Lock()
	defer rv.mu.Unlock()
	t.Logf("%+v; %d refused", st, rv.refused)
	if st.Sent != 5000 || rv.counted != 5000 {
		t.Errorf("sent %d, receiver counted %d, want 5000", st.Sent, rv.counted)
	}
	if st.Batches != 50 || len(rv.acked) != 50 {
		t.Errorf("%d batches acknowledged, receiver saw %d keys, want 50", st.Batches, len(rv.acked))
	}
	if st.Accepted+st.Rejected != 5000 || st.Rejected != int64(rv.rejected) || st.Rejected == 0 {
		t.Errorf("accepted %d + rejected %d; receiver rejected %d", st.Accepted, st.Rejected, rv.rejected)
	}
	if !strings.Contains(st.FirstRejection, "test rejection") {
		t.Errorf("first rejection %q", st.FirstRejection)
	}
	if rv.refused == 0 || st.Retried < int64(rv.refused) {
		t.Errorf("retried %d, receiver refused %d", st.Retried, rv.refused)
	}
	if st.Unsent != 0 {
		t.Errorf("%d unsent", st.Unsent)
	}
	if !strings.Contains(progress.String(), "sent 5000 events in 50 batches") {
		t.Errorf("summary: %q", progress.String())
	}
}

func TestRunRetriesNetworkErrors(t *testing.T) {
	rv := newReceiver(t)
	rv.hangUp = func(string) bool { return true }
	srv := httptest.NewServer(rv)
	defer srv.Close()
	// Without keep-alives every attempt has a fresh connection, so the
	// transport does not retry on its own: the publisher must.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	st, err := Run(t.Context(), RunOptions{URL: srv.URL, User: rv.user, Password: rv.password, BatchSize: 100, Count: 1000, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if st.Sent != 1000 || rv.counted != 1000 || st.Retried != 10 {
		t.Errorf("%+v, receiver counted %d", st, rv.counted)
	}
	for key, n := range rv.attempts {
		if n != 2 {
			t.Errorf("batch %s posted %d times", key, n)
		}
	}
}

func TestRunMatchesGenerateBodies(t *testing.T) {
	rv := newReceiver(t)
	srv := httptest.NewServer(rv)
	defer srv.Close()
	from, to := t0, t0.AddDate(0, 0, 30)
	o := RunOptions{
		Options: Options{Seed: 11, APIs: 10, Applications: 20}, URL: srv.URL, User: rv.user, Password: rv.password,
		BatchSize: 250, Concurrency: 1, Count: 1000, Gzip: true, BackfillFrom: from, BackfillTo: to,
	}
	if _, err := Run(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	want := GenerateBodies(RunOptions{Options: o.Options, BatchSize: o.BatchSize, BackfillFrom: from, BackfillTo: to}, 1000)
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if len(rv.order) != len(want) {
		t.Fatalf("%d batches, want %d", len(rv.order), len(want))
	}
	for i, key := range rv.order {
		zr, err := gzip.NewReader(bytes.NewReader(rv.bodies[key]))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(zr)
		if !bytes.Equal(got, want[i]) {
			t.Fatalf("batch %d differs from GenerateBodies", i)
		}
		for _, e := range rv.byKey[key] {
			if e.RequestTimestamp.Before(from) || !e.RequestTimestamp.Before(to) {
				t.Fatalf("timestamp %s outside the backfill window", e.RequestTimestamp)
			}
		}
	}
}

func TestRunStopsOnClientErrors(t *testing.T) {
	for _, tc := range []struct {
		status int
		answer string
	}{
		{400, `{"error":"no valid event"}`},
		{401, `{"error":"invalid credentials"}`},
		{403, `{"error":"not a publisher"}`},
		{413, `{"error":"body over 10 MiB"}`},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			var calls sync.Map
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				key := r.Header.Get("Idempotency-Key")
				if _, again := calls.LoadOrStore(key, true); again {
					t.Errorf("batch %s retried after %d", key, tc.status)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.answer)
			}))
			defer srv.Close()
			start := time.Now()
			st, err := Run(t.Context(), RunOptions{URL: srv.URL, Token: "t", BatchSize: 10, Count: 1000})
			if err == nil || !strings.Contains(err.Error(), fmt.Sprint(tc.status)) || !strings.Contains(err.Error(), tc.answer) {
				t.Fatalf("error %v, want one quoting %d %s", err, tc.status, tc.answer)
			}
			if st.Sent != 0 || st.Unsent == 0 || time.Since(start) > 5*time.Second {
				t.Errorf("stats %+v after %s", st, time.Since(start))
			}
		})
	}
}

func TestRunBearerTokenAndRate(t *testing.T) {
	rv := newReceiver(t)
	rv.token = "api-token-1"
	srv := httptest.NewServer(rv)
	defer srv.Close()
	start := time.Now()
	st, err := Run(t.Context(), RunOptions{URL: srv.URL, Token: rv.token, Rate: 2000, Duration: 500 * time.Millisecond, BatchSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	if st.Sent < 700 || st.Sent > 1100 {
		t.Errorf("sent %d events in 500 ms at 2000/s", st.Sent)
	}
	rv.mu.Lock()
	defer rv.mu.Unlock()
	for _, evs := range rv.byKey {
		for _, e := range evs {
			if e.RequestTimestamp.Before(start.Truncate(time.Millisecond)) || e.RequestTimestamp.After(end) {
				t.Fatalf("live timestamp %s outside [%s, %s]", e.RequestTimestamp, start, end)
			}
		}
	}
}

func TestRunLowRateFlushesWithinASecond(t *testing.T) {
	rv := newReceiver(t)
	srv := httptest.NewServer(rv)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	// 20 events/s never fill a batch of 500: the linger must send them.
	st, err := Run(ctx, RunOptions{URL: srv.URL, User: rv.user, Password: rv.password, Rate: 20})
	if err != nil {
		t.Fatal(err)
	}
	if st.Batches == 0 || st.Sent < 10 {
		t.Errorf("%+v", st)
	}
}

func TestRunUntilCancelled(t *testing.T) {
	var mu sync.Mutex
	slow := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		slow++
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"accepted":100,"rejected":[]}`)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	st, err := Run(ctx, RunOptions{URL: srv.URL, BatchSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent == 0 || st.Sent%100 != 0 || st.Accepted != st.Sent {
		t.Errorf("%+v", st)
	}
}

func TestRunBackPressure(t *testing.T) {
	var mu sync.Mutex
	tries := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		key := r.Header.Get("Idempotency-Key")
		tries[key]++
		n := tries[key]
		mu.Unlock()
		if n <= 3 { // more than MaxRetries allows for errors, but 429 is waited out
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	st, err := Run(t.Context(), RunOptions{URL: srv.URL, BatchSize: 50, Count: 200, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 200 || st.Accepted != 200 || st.Retried != 12 {
		t.Errorf("%+v", st)
	}
}

func TestRunGivesUpOnADeadReceiver(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream down", http.StatusBadGateway)
	}))
	defer srv.Close()
	_, err := Run(t.Context(), RunOptions{URL: srv.URL, BatchSize: 10, Count: 10, MaxRetries: 2})
	if err == nil || !strings.Contains(err.Error(), "after 2 retries") || !strings.Contains(err.Error(), "upstream down") {
		t.Fatalf("error %v", err)
	}
}

func TestSend(t *testing.T) {
	rv := newReceiver(t)
	srv := httptest.NewServer(rv)
	defer srv.Close()
	o := RunOptions{URL: srv.URL, User: rv.user, Password: rv.password, BatchSize: 200, Gzip: true}
	batches := GenerateBatches(o, 1000)
	if len(batches) != 5 || !batches[0].Gzipped {
		t.Fatalf("%d batches", len(batches))
	}
	st, err := Send(t.Context(), o, batches)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 1000 || rv.counted != 1000 {
		t.Errorf("%+v, receiver counted %d", st, rv.counted)
	}
}

func TestRetryAfter(t *testing.T) {
	for h, want := range map[string]time.Duration{"": -1, "0": 0, "3": 3 * time.Second, "junk": -1, "99999": 5 * time.Minute, "-4": 0} {
		if got := retryAfter(h); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", h, got, want)
		}
	}
	date := time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
	if got := retryAfter(date); got <= 0 || got > 2*time.Second {
		t.Errorf("retryAfter(%q) = %s", date, got)
	}
}

func TestRunOptionsValidate(t *testing.T) {
	_, err := Run(t.Context(), RunOptions{BackfillFrom: t0, BackfillTo: t0})
	if err == nil {
		t.Error("an empty backfill window was accepted")
	}
	if got := endpoint("http://h:1/api/v1/events/"); got != "http://h:1/api/v1/events" {
		t.Errorf("endpoint %q", got)
	}
	if got := slices.Collect(func(yield func(string) bool) {
		for _, n := range []float64{12, 12345, 1234567} {
			yield(human(n))
		}
	}); !slices.Equal(got, []string{"12", "12.3k", "1.2M"}) {
		t.Errorf("human: %v", got)
	}
}
