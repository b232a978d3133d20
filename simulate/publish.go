package simulate

import (
	"bytes"
	"compress/gzip"
	"context"
	crand "crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apilens/apilens"
)

// RunOptions configure Run and Send. Zero values mean the defaults.
type RunOptions struct {
	// Options describe the simulated platform and its traffic.
	Options

	// URL is the receiver's base URL; events go to URL/api/v1/events.
	URL string
	// User and Password are a publisher account for HTTP Basic auth.
	User, Password string
	// Token is a bearer API token, used instead of User and Password.
	Token string

	// BatchSize is the number of events per request; default 500.
	BatchSize int
	// Concurrency is the number of requests in flight; default 4.
	Concurrency int
	// Rate is the target in events per second; 0 sends as fast as the
	// receiver takes them.
	Rate float64
	// Duration and Count end the run, whichever comes first; with neither,
	// Run goes on until its context is done.
	Duration time.Duration
	Count    int64
	// Gzip compresses the bodies (Content-Encoding: gzip).
	Gzip bool

	// BackfillFrom and BackfillTo, when both set, make history: timestamps
	// are spread uniformly at random, deterministically for the seed, over
	// [BackfillFrom, BackfillTo) instead of being the time of sending.
	BackfillFrom, BackfillTo time.Time

	// MaxRetries bounds the retries of a batch after network errors and
	// 5xx answers without Retry-After; default 10, negative for no bound.
	// Back-pressure (429, or 503 with Retry-After) is waited out for as
	// long as the context allows.
	MaxRetries int

	// Logs, when set, makes Run write the gateway logs of its traffic as
	// well, and post them to URL/api/v1/logs (or write them to a file).
	Logs *LogRun
	// NoEvents makes Run generate the traffic for its logs without
	// posting the events.
	NoEvents bool

	// ReceiverURLs, when set, sends the events through package publisher,
	// as a gateway's data agent does, to these receivers (a receiver_urls
	// value: see publisher.ParseReceiverURLs) instead of posting them to
	// URL. User and Password are its account; Token and Logs are not
	// supported; Concurrency, Gzip and MaxRetries do not apply.
	ReceiverURLs string
	// AuthURLs and Transport are the publisher's (publisher.Options):
	// auth URLs default to ssl://host:(port+100) of each receiver URL, the
	// transport to binary (http for http:// URLs).
	AuthURLs, Transport string
	// TLSConfig is used for ssl:// and https:// receiver and auth URLs.
	TLSConfig *tls.Config
	// Logger gets the publisher's warnings (receivers down, drops);
	// default slog.Default().
	Logger *slog.Logger

	// Progress, when set, gets a progress line every second and a final
	// summary: on a terminal the line is rewritten in place.
	Progress io.Writer
	// Client is the HTTP client; default a client with Concurrency idle
	// connections per host.
	Client *http.Client

	ownClient bool // Client was made here, and its connections are closed at the end
}

func (o RunOptions) withDefaults() RunOptions {
	o.Options = o.Options.withDefaults()
	if o.URL == "" {
		o.URL = "http://127.0.0.1:9090"
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 10
	}
	if o.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = o.Concurrency
		o.Client = &http.Client{Transport: tr, Timeout: 2 * time.Minute}
		o.ownClient = true
	}
	return o
}

func (o RunOptions) backfill() bool { return !o.BackfillFrom.IsZero() && !o.BackfillTo.IsZero() }

func (o RunOptions) validate() error {
	if o.backfill() && !o.BackfillFrom.Before(o.BackfillTo) {
		return fmt.Errorf("backfill window [%s, %s) is empty", o.BackfillFrom.Format(time.RFC3339), o.BackfillTo.Format(time.RFC3339))
	}
	if o.Rate < 0 || o.Count < 0 || o.Duration < 0 {
		return errors.New("rate, count and duration cannot be negative")
	}
	return nil
}

// endpoint returns the events URL of the receiver at base.
func endpoint(base string) string {
	base = strings.TrimRight(base, "/")
	if strings.HasSuffix(base, "/api/v1/events") {
		return base
	}
	return base + "/api/v1/events"
}

// Stats count what a run did.
type Stats struct {
	// Sent is the number of events in batches the receiver acknowledged.
	Sent int64
	// Accepted and Rejected are the receiver's verdicts on those events.
	Accepted, Rejected int64
	// Retried is the number of requests repeated after an error.
	Retried int64
	// Batches is the number of acknowledged batches.
	Batches int64
	// Unsent is the number of events made but not acknowledged because the
	// run was stopped (its context ended or a batch failed).
	Unsent int64
	// LogLines is the number of log lines acknowledged (or written to
	// the log file) when the run makes logs.
	LogLines int64
	// FirstRejection is the receiver's reason for the first rejected event.
	FirstRejection string
	// Elapsed is the run's duration.
	Elapsed time.Duration
}

// String is the summary line of a run.
func (s Stats) String() string {
	rate := 0.0
	if s.Elapsed > 0 {
		rate = float64(s.Sent) / s.Elapsed.Seconds()
	}
	if s.Sent == 0 && s.LogLines > 0 { // a run of logs only
		return fmt.Sprintf("sent %d log lines in %s (%s lines/s)", s.LogLines, s.Elapsed.Round(time.Millisecond),
			human(float64(s.LogLines)/max(s.Elapsed.Seconds(), 1e-3)))
	}
	str := fmt.Sprintf("sent %d events in %d batches in %s (%s events/s): %d accepted, %d rejected, %d retries",
		s.Sent, s.Batches, s.Elapsed.Round(time.Millisecond), human(rate), s.Accepted, s.Rejected, s.Retried)
	if s.LogLines > 0 {
		str += fmt.Sprintf("; %d log lines", s.LogLines)
	}
	if s.Unsent > 0 {
		str += fmt.Sprintf(", %d unsent", s.Unsent)
	}
	if s.FirstRejection != "" {
		str += "; first rejection: " + s.FirstRejection
	}
	return str
}

// Batch is one request body ready to post.
type Batch struct {
	// Body is NDJSON, gzip-compressed when Gzipped.
	Body []byte
	// Events is the number of events in Body.
	Events int
	// Gzipped tells that Body is already compressed: it is sent with
	// Content-Encoding: gzip whatever RunOptions.Gzip says.
	Gzipped bool
}

// Run generates events and posts them to the receiver until the count or
// the duration is reached or ctx is done, and returns what it did. Each
// batch carries its own Idempotency-Key; a batch that meets a network
// error, 429 or 5xx is retried with the same body and key, so the
// receiver counts it once. A 4xx answer other than 429 stops the run with
// an error that quotes the receiver. A run stopped by ctx returns a nil
// error: Stats tell how far it got.
func Run(ctx context.Context, o RunOptions) (Stats, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return Stats{}, err
	}
	if o.ReceiverURLs != "" {
		return runPublisher(ctx, o)
	}
	return pipeline(ctx, o, func(ctx context.Context, s *sender, out chan<- *job) {
		produce(ctx, o, s, out)
	})
}

// Send posts batches made beforehand (by GenerateBatches) as Run would,
// at o.Rate events per second or as fast as possible, to URL (never
// through ReceiverURLs). Count and Duration are ignored.
func Send(ctx context.Context, o RunOptions, batches []Batch) (Stats, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return Stats{}, err
	}
	return pipeline(ctx, o, func(ctx context.Context, s *sender, out chan<- *job) {
		start := time.Now()
		var events int64
		for i := range batches {
			b := &batches[i]
			if o.Rate > 0 {
				due := start.Add(time.Duration(float64(events) / o.Rate * float64(time.Second)))
				if !sleepUntil(ctx, due) {
					s.unsent.Add(int64(b.Events))
					continue
				}
			}
			events += int64(b.Events)
			j := &job{seq: int64(i), body: b.Body, events: b.Events, gzipped: b.Gzipped}
			select {
			case out <- j:
			case <-ctx.Done():
				s.unsent.Add(int64(b.Events))
			}
		}
	})
}

// GenerateBatches makes the batches of n events that Run would send for o
// (timestamps in the backfill window, or now), so that a benchmark can
// encode them before it measures.
func GenerateBatches(o RunOptions, n int) []Batch {
	o = o.withDefaults()
	g := NewGenerator(o.Options)
	clock := newClock(o)
	var out []Batch
	var e apilens.Event
	var zw *gzip.Writer
	for n > 0 {
		k := min(n, o.BatchSize)
		body := make([]byte, 0, k*800)
		for range k {
			g.Next(&e, clock.next())
			body = AppendNDJSON(body, &e)
		}
		b := Batch{Body: body, Events: k}
		if o.Gzip {
			b.Body, zw = compress(nil, body, zw)
			b.Gzipped = true
		}
		out = append(out, b)
		n -= k
	}
	return out
}

// GenerateBodies returns the request bodies of GenerateBatches.
func GenerateBodies(o RunOptions, n int) [][]byte {
	batches := GenerateBatches(o, n)
	bodies := make([][]byte, len(batches))
	for i, b := range batches {
		bodies[i] = b.Body
	}
	return bodies
}

// clock gives the timestamps of successive events: now, or random in the
// backfill window.
type clock struct {
	from  time.Time
	span  int64
	r     *rand.Rand
	start time.Time
	rate  float64
	k     int64
}

func newClock(o RunOptions) *clock {
	c := &clock{start: time.Now(), rate: o.Rate}
	if o.backfill() {
		c.from = o.BackfillFrom
		c.span = int64(o.BackfillTo.Sub(o.BackfillFrom))
		c.r = rand.New(rand.NewPCG(o.Seed^0x6261636b66696c6c, 7)) // "backfill"
	}
	return c
}

func (c *clock) next() time.Time {
	if c.r != nil {
		return c.from.Add(time.Duration(c.r.Int64N(c.span)))
	}
	return time.Now()
}

// scheduled returns the time of the k-th event at the target rate.
func (c *clock) scheduled(k int64) time.Time {
	if c.r != nil {
		return c.next()
	}
	return c.start.Add(time.Duration(float64(k) / c.rate * float64(time.Second)))
}

// job is a batch on its way: its sequence number makes its key.
type job struct {
	seq     int64
	body    []byte
	events  int
	gzipped bool
}

// linger bounds how long a batch waits to fill at a low rate, so live
// traffic reaches the receiver within about a second.
const linger = time.Second

// produce generates events into batches and hands them to the senders.
func produce(ctx context.Context, o RunOptions, s *sender, out chan<- *job) {
	g := NewGenerator(o.Options)
	clock := newClock(o)
	start := clock.start
	var logs *logSink
	if o.Logs != nil {
		logs = newLogSink(ctx, o, s)
		defer func() { logs.close(ctx, o.BackfillTo) }()
	}
	var (
		e      apilens.Event
		cur    *job
		opened time.Time
		seq    int64
		made   int64
	)
	flush := func() bool {
		if cur == nil || cur.events == 0 {
			return true
		}
		select {
		case out <- cur:
			cur = nil
			return true
		case <-ctx.Done():
			return false
		}
	}
	done := func(now time.Time) bool {
		return (o.Count > 0 && made >= o.Count) || (o.Duration > 0 && now.Sub(start) >= o.Duration)
	}
	for ctx.Err() == nil {
		now := time.Now()
		if done(now) {
			break
		}
		if cur == nil {
			// A fresh buffer each time: the transport may still read the
			// previous body after the answer came back.
			cur = &job{seq: seq, body: make([]byte, 0, o.BatchSize*800)}
			seq++
		}
		want := int64(o.BatchSize - cur.events)
		if o.Count > 0 {
			want = min(want, o.Count-made)
		}
		if o.Rate > 0 {
			due := int64(now.Sub(start).Seconds()*o.Rate) + 1
			if o.Duration > 0 {
				due = min(due, int64(o.Duration.Seconds()*o.Rate))
			}
			want = min(want, due-made)
		}
		if cur.events == 0 && want > 0 {
			opened = now
		}
		for range max(want, 0) {
			var ts time.Time
			if o.Rate > 0 {
				ts = clock.scheduled(made)
			} else {
				ts = clock.next()
			}
			g.Next(&e, ts)
			if logs != nil {
				logs.observe(ctx, &e)
			}
			if !o.NoEvents {
				cur.body = AppendNDJSON(cur.body, &e)
				cur.events++
			}
			made++
		}
		lingered := o.Rate > 0 && cur.events > 0 && time.Since(opened) >= linger
		if cur.events >= o.BatchSize || done(now) || lingered {
			if !flush() {
				break
			}
			continue
		}
		if o.Rate > 0 && want <= 0 {
			// Wait for the next event, but not past the batch's linger,
			// and not in steps so short that waking up costs more than
			// the events do.
			next := start.Add(time.Duration(float64(made) / o.Rate * float64(time.Second)))
			if t := opened.Add(linger); cur.events > 0 && t.Before(next) {
				next = t
			}
			if t := time.Now().Add(5 * time.Millisecond); next.Before(t) {
				next = t
			}
			if t := start.Add(o.Duration); o.Duration > 0 && t.Before(next) {
				next = t
			}
			sleepUntil(ctx, next)
		}
	}
	if ctx.Err() == nil {
		flush()
	}
	if cur != nil {
		s.unsent.Add(int64(cur.events))
	}
}

// sleepUntil waits until t; it reports false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// pipeline runs source and Concurrency senders until the source is done
// and every batch it made is acknowledged or abandoned.
func pipeline(ctx context.Context, o RunOptions, source func(context.Context, *sender, chan<- *job)) (Stats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &sender{o: o, url: endpoint(o.URL), runID: runID(), cancel: cancel, start: time.Now()}
	jobs := make(chan *job, o.Concurrency)
	var wg sync.WaitGroup
	for range o.Concurrency {
		wg.Go(func() { s.work(ctx, jobs) })
	}
	stopProgress := progress(o.Progress, o.Logs != nil, s.stats)
	source(ctx, s, jobs)
	close(jobs)
	wg.Wait()
	if o.ownClient {
		o.Client.CloseIdleConnections()
	}
	st := s.stats()
	stopProgress(st)
	return st, s.err()
}

// sender posts batches and keeps the counts.
type sender struct {
	o      RunOptions
	url    string
	runID  string
	cancel context.CancelFunc
	start  time.Time

	sent, accepted, rejected, retried, batches, unsent atomic.Int64
	logLines                                           atomic.Int64

	mu             sync.Mutex
	firstErr       error
	firstRejection string
}

func runID() string {
	var b [8]byte
	_, _ = crand.Read(b[:]) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b[:])
}

func (s *sender) stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		Sent:           s.sent.Load(),
		Accepted:       s.accepted.Load(),
		Rejected:       s.rejected.Load(),
		Retried:        s.retried.Load(),
		Batches:        s.batches.Load(),
		Unsent:         s.unsent.Load(),
		LogLines:       s.logLines.Load(),
		FirstRejection: s.firstRejection,
		Elapsed:        time.Since(s.start),
	}
}

func (s *sender) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstErr
}

// fail records the first error and stops the run.
func (s *sender) fail(err error) {
	s.mu.Lock()
	if s.firstErr == nil {
		s.firstErr = err
	}
	s.mu.Unlock()
	s.cancel()
}

func (s *sender) work(ctx context.Context, jobs <-chan *job) {
	var zw *gzip.Writer
	for j := range jobs {
		if ctx.Err() != nil {
			s.unsent.Add(int64(j.events))
			continue
		}
		body, gz := j.body, j.gzipped
		if s.o.Gzip && !gz {
			// Compressed once, so every retry sends the same bytes.
			body, zw = compress(nil, body, zw)
			gz = true
		}
		if err := s.deliver(ctx, j, body, gz); err != nil {
			s.unsent.Add(int64(j.events))
			if ctx.Err() == nil {
				s.fail(err)
			}
		}
	}
}

func compress(dst, body []byte, zw *gzip.Writer) ([]byte, *gzip.Writer) {
	buf := bytes.NewBuffer(dst)
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(buf, gzip.BestSpeed) // the level is valid
	} else {
		zw.Reset(buf)
	}
	_, _ = zw.Write(body) // writes to a bytes.Buffer do not fail
	_ = zw.Close()
	return buf.Bytes(), zw
}

// answer is the receiver's reply to a batch.
type answer struct {
	Accepted *int64 `json:"accepted"`
	Rejected []struct {
		Index int    `json:"index"`
		Error string `json:"error"`
	} `json:"rejected"`
}

// errRetry is a failed attempt that may succeed when repeated.
type errRetry struct {
	err          error
	after        time.Duration // Retry-After; <0 when absent
	backPressure bool
}

func (e *errRetry) Error() string { return e.err.Error() }

// deliver posts one batch until the receiver acknowledges it, retrying
// with the same body and Idempotency-Key.
func (s *sender) deliver(ctx context.Context, j *job, body []byte, gz bool) error {
	key := s.runID + "-" + strconv.FormatInt(j.seq, 10)
	failures := 0
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			s.retried.Add(1)
		}
		err := s.post(ctx, j, key, body, gz)
		if err == nil {
			return nil
		}
		var re *errRetry
		if !errors.As(err, &re) || ctx.Err() != nil {
			return err
		}
		if !re.backPressure {
			failures++
			if s.o.MaxRetries > 0 && failures > s.o.MaxRetries {
				return fmt.Errorf("batch %d not delivered after %d retries: %w", j.seq, s.o.MaxRetries, re.err)
			}
		}
		wait := re.after
		if wait < 0 {
			wait = backoff(attempt)
		}
		if !sleepUntil(ctx, time.Now().Add(wait)) {
			return ctx.Err()
		}
	}
}

// backoff is the wait before retry n+1: exponential with full jitter,
// from 100 ms up to 10 s.
func backoff(n int) time.Duration {
	d := 100 * time.Millisecond << min(n, 7)
	d = min(d, 10*time.Second)
	return d/2 + rand.N(d/2+1)
}

func (s *sender) post(ctx context.Context, j *job, key string, body []byte, gz bool) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("post events: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("User-Agent", "apilens-simulate")
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	switch {
	case s.o.Token != "":
		req.Header.Set("Authorization", "Bearer "+s.o.Token)
	case s.o.User != "" || s.o.Password != "":
		req.SetBasicAuth(s.o.User, s.o.Password)
	}
	resp, err := s.o.Client.Do(req)
	if err != nil {
		return &errRetry{err: fmt.Errorf("post events to %s: %w", s.url, err), after: -1}
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil && resp.StatusCode/100 != 2 {
		return &errRetry{err: fmt.Errorf("read answer of %s: %w", s.url, err), after: -1}
	}
	switch {
	case resp.StatusCode/100 == 2:
		s.count(j.events, reply)
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		after := retryAfter(resp.Header.Get("Retry-After"))
		return &errRetry{err: s.answerError(resp, reply), after: after, backPressure: resp.StatusCode == http.StatusTooManyRequests || after >= 0}
	case resp.StatusCode >= 500:
		return &errRetry{err: s.answerError(resp, reply), after: retryAfter(resp.Header.Get("Retry-After"))}
	default:
		return s.answerError(resp, reply)
	}
}

func (s *sender) answerError(resp *http.Response, reply []byte) error {
	msg := strings.TrimSpace(string(reply))
	if len(msg) > 512 {
		msg = msg[:512] + "…"
	}
	if msg == "" {
		return fmt.Errorf("POST %s: %s", s.url, resp.Status)
	}
	return fmt.Errorf("POST %s: %s: %s", s.url, resp.Status, msg)
}

// count records an acknowledged batch of n events.
func (s *sender) count(n int, reply []byte) {
	var a answer
	accepted := int64(n)
	if json.Unmarshal(reply, &a) == nil && a.Accepted != nil {
		accepted = *a.Accepted
	}
	s.sent.Add(int64(n))
	s.batches.Add(1)
	s.accepted.Add(accepted)
	s.rejected.Add(int64(len(a.Rejected)))
	if len(a.Rejected) > 0 {
		s.mu.Lock()
		if s.firstRejection == "" {
			s.firstRejection = fmt.Sprintf("event %d: %s", a.Rejected[0].Index, a.Rejected[0].Error)
		}
		s.mu.Unlock()
	}
}

// retryAfter parses a Retry-After header (seconds or an HTTP date); it
// returns -1 when there is none, and at most five minutes.
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

// progress prints a line every second to w until the returned function
// is called with the final stats, which it prints as the summary. stats
// gives the counts so far; logs adds the log lines to the line.
func progress(w io.Writer, logs bool, stats func() Stats) func(Stats) {
	if w == nil {
		return func(Stats) {}
	}
	tty := IsTerminal(w)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		last, lastAt := int64(0), time.Now()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				st := stats()
				rate := float64(st.Sent-last) / now.Sub(lastAt).Seconds()
				last, lastAt = st.Sent, now
				line := fmt.Sprintf("%s events/s, %s sent, %d rejected, %d retries", human(rate), human(float64(st.Sent)), st.Rejected, st.Retried)
				if logs {
					line += fmt.Sprintf(", %s log lines sent", human(float64(st.LogLines)))
				}
				if tty {
					fmt.Fprintf(w, "\r%s\033[K", line)
				} else {
					fmt.Fprintln(w, line)
				}
			}
		}
	})
	return func(st Stats) {
		close(stop)
		wg.Wait()
		if tty {
			fmt.Fprint(w, "\r\033[K")
		}
		fmt.Fprintln(w, st.String())
	}
}

// IsTerminal reports whether w is a terminal, where progress lines redraw
// in place rather than scroll.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// human formats n with a k or M suffix: 12.3k, 1.2M.
func human(n float64) string {
	switch {
	case n >= 1e6:
		return strconv.FormatFloat(n/1e6, 'f', 1, 64) + "M"
	case n >= 1e3:
		return strconv.FormatFloat(n/1e3, 'f', 1, 64) + "k"
	}
	return strconv.FormatFloat(n, 'f', 0, 64)
}
