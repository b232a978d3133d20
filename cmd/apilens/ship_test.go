package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/ingest"
	"github.com/apilens/apilens/publisher"
	"github.com/apilens/apilens/simulate"
)

// gatewayLog writes the carbon log of calls of seeded traffic, one every
// 50 ms from start, with the gateway's own activity between them, and
// tells what it wrote by classification.
type gatewayLog struct {
	tg *simulate.Generator
	lg *simulate.LogGenerator
	ts time.Time
	// next is when the gateway next logs something of its own.
	next time.Time
}

func newGatewayLog(seed uint64, start time.Time) *gatewayLog {
	o := simulate.Options{Seed: seed, APIs: 10, Applications: 20}
	lg := simulate.NewLogGenerator(simulate.LogOptions{Options: o, AmbientInterval: 100 * time.Millisecond})
	return &gatewayLog{tg: simulate.NewGenerator(o), lg: lg, ts: start, next: lg.NextAmbient(start)}
}

// calls returns the lines of the next n calls.
func (g *gatewayLog) calls(n int) []byte {
	var out []byte
	var e apilens.Event
	for range n {
		g.ts = g.ts.Add(50 * time.Millisecond)
		for !g.next.After(g.ts) {
			out = g.lg.AppendAmbient(out, g.next)
			g.next = g.lg.NextAmbient(g.next)
		}
		g.tg.Next(&e, g.ts)
		out = g.lg.AppendEvent(out, &e)
	}
	return out
}

func appendFile(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// shipTo runs `apilens ship` in-process, posting to base as admin.
func shipTo(ctx context.Context, t *testing.T, base, source string, extra ...string) error {
	t.Helper()
	env := &cmdEnv{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }, environ: os.Environ}
	args := append([]string{"ship", "--format", "carbon", "--source", source, "--url", base,
		"--user", "admin", "--password", "secret-test-password"}, extra...)
	return run(ctx, env, args)
}

// logCounts returns the server's records of source by classification.
func logCounts(c *client, source string, from, to time.Time) map[simulate.LogKey]int {
	c.t.Helper()
	var ans struct {
		Counts []struct {
			Category, Status, Code, API string
			Count                       int
		}
	}
	q := url.Values{"source": {source}, "from": {from.Format(time.RFC3339Nano)}, "to": {to.Format(time.RFC3339Nano)}}
	c.getJSON("/api/v1/loganalyzer/counts?"+q.Encode(), &ans)
	out := map[simulate.LogKey]int{}
	for _, x := range ans.Counts {
		out[simulate.LogKey{Category: x.Category, Status: x.Status, Code: x.Code, API: x.API}] += x.Count
	}
	return out
}

func total(m map[simulate.LogKey]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// waitCounts waits until the server holds as many records of source as
// want counts, then checks that they are classified as want says.
func waitCounts(t *testing.T, c *client, source string, from, to time.Time, want map[simulate.LogKey]int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := logCounts(c, source, from, to)
		if total(got) >= total(want) || time.Now().After(deadline) {
			if !maps.Equal(got, want) {
				t.Fatalf("the server holds %d records of %s:\n%v\nwritten: %d:\n%v", total(got), source, got, total(want), want)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestShipOnceAndRestart(t *testing.T) {
	m := startServer(t, t.TempDir(), nil)
	defer m.Close()
	c := &client{t: t, base: m.URL(), user: "admin", pass: "secret-test-password"}
	dir := t.TempDir()
	path := filepath.Join(dir, "wso2carbon.log")
	start := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	from, to := start.Add(-time.Hour), start.Add(3*time.Hour)
	g := newGatewayLog(3, start)

	// Enough for several posts of 5,000 lines.
	appendFile(t, path, g.calls(40000))
	written := maps.Clone(g.lg.Counts())
	if g.lg.Lines() < 3*shipBatchLines {
		t.Fatalf("only %d lines", g.lg.Lines())
	}

	// The shipper is killed while its third post is under way: the
	// proxy passes two posts on and holds the third until the kill.
	target, _ := url.Parse(m.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	var posts atomic.Int32
	ctx, kill := context.WithCancel(context.Background())
	defer kill()
	front := http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" && posts.Add(1) == 3 {
			kill()
			<-r.Context().Done()
			return
		}
		proxy.ServeHTTP(w, r)
	})}
	ln := listen(t)
	go front.Serve(ln)
	defer front.Close()
	if err := shipTo(ctx, t, "http://"+ln.Addr().String(), "gw-ship", "--once", path); err != nil {
		t.Fatal(err)
	}
	if got := total(logCounts(c, "gw-ship", from, to)); got == 0 || got >= total(written) {
		t.Fatalf("after the kill the server holds %d of %d records", got, total(written))
	}

	// Restarted, it goes on from the last acknowledged post; more lines
	// arrive meanwhile.
	appendFile(t, path, g.calls(2000))
	written = maps.Clone(g.lg.Counts())
	if err := shipTo(context.Background(), t, m.URL(), "gw-ship", "--once", path); err != nil {
		t.Fatal(err)
	}
	waitCounts(t, c, "gw-ship", from, to, written)

	// Once more, with nothing new: nothing is sent again.
	if err := shipTo(context.Background(), t, m.URL(), "gw-ship", "--once", path); err != nil {
		t.Fatal(err)
	}
	waitCounts(t, c, "gw-ship", from, to, written)

	// The Access Token Errors page counts what was written.
	var te struct {
		Statuses []struct {
			Status, Code string
			Count        int
		}
	}
	c.getJSON("/api/v1/loganalyzer/token-errors?from="+url.QueryEscape(from.Format(time.RFC3339))+"&to="+url.QueryEscape(to.Format(time.RFC3339)), &te)
	tokens := 0
	for _, s := range te.Statuses {
		want := written[simulate.LogKey{Category: apilens.LogAccessToken, Status: s.Status, Code: s.Code}]
		if s.Count != want {
			t.Errorf("token errors: %s (%s): %d, written %d", s.Status, s.Code, s.Count, want)
		}
		tokens += s.Count
	}
	if tokens == 0 {
		t.Error("no token errors")
	}
}

func TestShipFollowsRotationAndSplitRecords(t *testing.T) {
	m := startServer(t, t.TempDir(), nil)
	defer m.Close()
	c := &client{t: t, base: m.URL(), user: "admin", pass: "secret-test-password"}
	dir := t.TempDir()
	path := filepath.Join(dir, "wso2carbon.log")
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	from, to := start.Add(-time.Hour), start.Add(2*time.Hour)
	g := newGatewayLog(5, start)
	appendFile(t, path, g.calls(3000))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- shipTo(ctx, t, m.URL(), "gw-rot", "--state-dir", dir, path) }()
	waitCounts(t, c, "gw-rot", from, to, g.lg.Counts())

	// A record whose stack trace is written in two parts, a poll apart
	// but well within the idle second, arrives as one record.
	ts := g.ts.Add(time.Second)
	stamp := ts.Format("2006-01-02 15:04:05,000")
	appendFile(t, path, []byte("TID: [-1234] [] ["+stamp+"] ERROR {org.example.SplitTrace} - Failed to do the thing\n"+
		"java.lang.IllegalStateException: first half\n\tat org.example.A.a(A.java:1)\n"))
	time.Sleep(2 * shipPoll)
	appendFile(t, path, []byte("\tat org.example.B.b(B.java:2)\nCaused by: java.io.IOException: second half\n\tat org.example.C.c(C.java:3)\n"+
		"TID: [-1234] [] ["+stamp+"]  INFO {org.example.SplitTrace} - after the trace\n"))
	g.ts = ts.Add(time.Second)

	// Rotation: more lines, the file renamed and a new one created,
	// which grows; every line arrives once.
	appendFile(t, path, g.calls(1500))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, g.calls(1500))
	time.Sleep(shipPoll)
	appendFile(t, path, g.calls(1500))

	want := maps.Clone(g.lg.Counts())
	want[simulate.LogKey{Category: apilens.LogAppError, Status: "SplitTrace"}]++
	want[simulate.LogKey{}]++
	waitCounts(t, c, "gw-rot", from, to, want)

	var split struct{ Records []struct{ Content string } }
	c.getJSON("/api/v1/loganalyzer/records?category=app_error&status=SplitTrace&source=gw-rot&from="+url.QueryEscape(from.Format(time.RFC3339))+"&to="+url.QueryEscape(to.Format(time.RFC3339)), &split)
	if len(split.Records) != 1 || !strings.Contains(split.Records[0].Content, "first half") || !strings.Contains(split.Records[0].Content, "at org.example.C.c") {
		t.Errorf("the split record arrived as %+v", split.Records)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "wso2carbon.log.apilens-offset")); err != nil {
		t.Errorf("no offset file in the state directory: %v", err)
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// TestSimulateLogs runs `apilens simulate --logs` on a backfill and holds
// the logs to the events: every AUTH fault has its authentication failure
// line, in one of the two gateways' logs; and --log-file writes a log that
// `apilens ship` sends as the same records.
func TestSimulateLogs(t *testing.T) {
	m := startServer(t, t.TempDir(), nil)
	defer m.Close()
	c := &client{t: t, base: m.URL(), user: "admin", pass: "secret-test-password"}
	env := &cmdEnv{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }, environ: os.Environ}
	to := time.Now().UTC().Truncate(time.Second)
	from := to.Add(-6 * time.Hour)
	const n = 6000
	args := []string{"--url", m.URL(), "--user", "admin", "--password", "secret-test-password", "--seed", "9", "--apis", "10", "--applications", "20",
		"--count", fmt.Sprint(n), "--backfill-from", from.Format(time.RFC3339), "--backfill-to", to.Format(time.RFC3339)}
	if err := run(context.Background(), env, append([]string{"simulate", "--logs-only", "--log-sources", "gw-a,gw-b"}, args...)); err != nil {
		t.Fatal(err)
	}

	// The same events, made again.
	o := simulate.RunOptions{Options: simulate.Options{Seed: 9, APIs: 10, Applications: 20}, BackfillFrom: from, BackfillTo: to}
	want := map[string]int{}
	var ps ingest.Parser
	for _, body := range simulate.GenerateBodies(o, n) {
		evs, _, err := ps.ParseEvents(body, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.ErrorType == apilens.FaultAuth {
				want[fmt.Sprint(e.ErrorCode)]++
			}
		}
	}
	got := map[string]int{}
	for _, src := range []string{"gw-a", "gw-b"} {
		counts := logCounts(c, src, from.Add(-time.Minute), to.Add(time.Minute))
		if total(counts) == 0 {
			t.Fatalf("no records of %s", src)
		}
		for k, v := range counts {
			if k.Category == apilens.LogAccessToken {
				got[k.Code] += v
			}
		}
	}
	// 900906 and 900911 come from no event: the gateway logs them of its own.
	delete(got, "900906")
	delete(got, "900911")
	if !maps.Equal(got, want) || len(want) < 5 {
		t.Errorf("authentication failures logged %v; AUTH faults of the events %v", got, want)
	}

	// --log-file: one gateway's log, shipped.
	path := filepath.Join(t.TempDir(), "wso2carbon.log")
	if err := run(context.Background(), env, append([]string{"simulate", "--logs-only", "--log-file", path}, args...)); err != nil {
		t.Fatal(err)
	}
	if err := shipTo(context.Background(), t, m.URL(), "gw-file", "--once", path); err != nil {
		t.Fatal(err)
	}
	shipped := logCounts(c, "gw-file", from.Add(-time.Minute), to.Add(time.Minute))
	both := logCounts(c, "gw-a", from.Add(-time.Minute), to.Add(time.Minute))
	for k, v := range logCounts(c, "gw-b", from.Add(-time.Minute), to.Add(time.Minute)) {
		both[k] += v
	}
	// One gateway or two, the calls' records are the same; the gateways'
	// own activity differs (each has its own).
	fileAuth, bothAuth := map[string]int{}, map[string]int{}
	for k, v := range shipped {
		if k.Category == apilens.LogAccessToken && k.Code != "900906" && k.Code != "900911" {
			fileAuth[k.Code] += v
		}
	}
	for k, v := range both {
		if k.Category == apilens.LogAccessToken && k.Code != "900906" && k.Code != "900911" {
			bothAuth[k.Code] += v
		}
	}
	if !maps.Equal(fileAuth, bothAuth) {
		t.Errorf("the log file's authentication failures %v; posted %v", fileAuth, bothAuth)
	}
}

// metricsLog writes a 4.x gateway's apim_metrics.log: the events of seeded
// traffic as apimMetrics lines, one every 50 ms from start, among the
// gateway's other lines, and now and then a line of another kind.
type metricsLog struct {
	g      *simulate.Generator
	ts     time.Time
	line   int // lines written
	events int // apim:response and apim:faulty lines written
	faults int
}

func newMetricsLog(seed uint64, start time.Time) *metricsLog {
	return &metricsLog{g: simulate.NewGenerator(simulate.Options{Seed: seed, APIs: 10, Applications: 20}), ts: start}
}

// calls returns the lines of the next n calls.
func (m *metricsLog) calls(n int) []byte {
	var out []byte
	var e apilens.Event
	for i := range n {
		m.ts = m.ts.Add(50 * time.Millisecond)
		stamp := m.ts.Format("15:04:05,000")
		if i%7 == 0 {
			out = m.add(out, stamp+" [-] [main]  INFO ELKMetricReporter Reporting metrics to the log\n")
		}
		if i%50 == 0 {
			out = m.add(out, stamp+` [10.0.0.5-gw-1] [PassThroughMessageProcessor-3]  INFO ELKCounterMetric apimMetrics: apim:analytics, properties :{"x":1}`+"\n")
		}
		m.g.Next(&e, m.ts)
		doc := bytes.TrimSuffix(publisher.AppendNDJSON(nil, &e), []byte("\n"))
		kind, sep := "response", " :"
		if e.EventType == apilens.EventFault {
			// The gateway's kind says it is a fault: the document need not.
			kind = "faulty"
			doc = bytes.Replace(doc, []byte(`,"eventType":"fault"`), nil, 1)
			m.faults++
		}
		if i%2 == 1 {
			sep = ": " // the Go gateway's spacing
		}
		out = m.add(out, stamp+" [10.0.0.5-gw-1] [PassThroughMessageProcessor-3]  INFO ELKCounterMetric apimMetrics: apim:"+kind+", properties"+sep+string(doc)+"\n")
		m.events++
	}
	return out
}

func (m *metricsLog) add(out []byte, line string) []byte {
	m.line++
	return append(out, line...)
}

// broken returns an apimMetrics line whose JSON is cut short and one the
// server rejects (no requestTimestamp), and their line numbers.
func (m *metricsLog) broken() (out []byte, bad, rejected int) {
	out = m.add(out, `10:00:00,000 [-] [t]  INFO ELKCounterMetric apimMetrics: apim:response, properties :{"requestTimestamp":"2026-11-20T10:15:30Z","apiName":"Pi`+"\n")
	out = m.add(out, `10:00:00,000 [-] [t]  INFO ELKCounterMetric apimMetrics: apim:faulty, properties :{"apiName":"NoTime"}`+"\n")
	return out, m.line - 1, m.line
}

// lockedBuffer is a bytes.Buffer that the shipper's logger and its
// progress goroutine may write at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// shipMetricsTo runs `apilens ship --format apim-metrics` in-process,
// posting to base as admin, its output to stderr.
func shipMetricsTo(ctx context.Context, t *testing.T, stderr io.Writer, base string, extra ...string) error {
	t.Helper()
	env := &cmdEnv{stdout: io.Discard, stderr: stderr, getenv: func(string) string { return "" }, environ: os.Environ}
	args := append([]string{"ship", "--format", "apim-metrics", "--url", base, "--user", "admin", "--password", "secret-test-password"}, extra...)
	return run(ctx, env, args)
}

// summaryOf returns the server's summary of the last 400 hours.
func summaryOf(c *client, now time.Time) summaryAnswer {
	c.t.Helper()
	var s summaryAnswer
	c.getJSON("/api/v1/traffic/summary?from="+url.QueryEscape(now.Add(-400*time.Hour).Format(time.RFC3339))+"&to="+url.QueryEscape(now.Add(time.Hour).Format(time.RFC3339)), &s)
	return s
}

// checkMetricsSummary waits until the server counts every event of m,
// then checks that its faults are faults.
func checkMetricsSummary(t *testing.T, c *client, m *metricsLog, now time.Time) {
	t.Helper()
	waitFlushed(t, c, int64(m.events), now)
	if s := summaryOf(c, now); s.Faults+s.Throttled != int64(m.faults) || m.faults == 0 {
		t.Errorf("the server counts %d faults and %d throttled; %d fault lines written", s.Faults, s.Throttled, m.faults)
	}
}

// TestShipMetricsOnceAndRestart ships a metrics log killed in the middle
// of a post and restarted: the server counts exactly the good events, and
// the bad lines are logged once each, with their file and line number.
func TestShipMetricsOnceAndRestart(t *testing.T) {
	srv := startServer(t, t.TempDir(), nil)
	defer srv.Close()
	c := &client{t: t, base: srv.URL(), user: "admin", pass: "secret-test-password"}
	path := filepath.Join(t.TempDir(), "apim_metrics.log")
	now := time.Now().UTC()
	m := newMetricsLog(11, now.Add(-2*time.Hour))

	var badAt []int
	for range 3 {
		appendFile(t, path, m.calls(1100))
		lines, bad, rejected := m.broken()
		appendFile(t, path, lines)
		badAt = append(badAt, bad, rejected)
	}

	// Killed while its third post is under way.
	target, _ := url.Parse(srv.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	var posts atomic.Int32
	ctx, kill := context.WithCancel(context.Background())
	defer kill()
	front := http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" && posts.Add(1) == 3 {
			kill()
			<-r.Context().Done()
			return
		}
		proxy.ServeHTTP(w, r)
	})}
	ln := listen(t)
	go front.Serve(ln)
	defer front.Close()
	var out lockedBuffer
	if err := shipMetricsTo(ctx, t, &out, "http://"+ln.Addr().String(), "--once", path); err != nil {
		t.Fatal(err)
	}
	// Two posts of 1,000 events, one of them rejected, went through.
	waitFlushed(t, c, 2*shipBatchEvents-1, now)

	// Restarted, it goes on from the last acknowledged post; more lines
	// arrive meanwhile.
	appendFile(t, path, m.calls(500))
	if err := shipMetricsTo(context.Background(), t, &out, srv.URL(), "--once", path); err != nil {
		t.Fatal(err)
	}
	checkMetricsSummary(t, c, m, now)
	log := out.String()
	for i, n := range badAt {
		msg := "cannot read the apimMetrics line"
		if i%2 == 1 {
			msg = "the server rejected the event"
		}
		want := fmt.Sprintf("file=%s line=%d", path, n)
		if c := strings.Count(log, want); c != 1 || !strings.Contains(log, msg) {
			t.Errorf("%q is logged %d times:\n%s", want, c, log)
		}
	}
	// The first run had the first pair in its second post; the second
	// run the others.
	if !strings.Contains(log, "1 rejected, 1 bad lines") || !strings.Contains(log, "2 rejected, 2 bad lines") {
		t.Errorf("the totals do not count the bad lines:\n%s", log)
	}

	// Once more, with nothing new: nothing is posted.
	posts.Store(100)
	if err := shipMetricsTo(context.Background(), t, io.Discard, "http://"+ln.Addr().String(), "--once", path); err != nil {
		t.Fatal(err)
	}
	if n := posts.Load(); n != 100 {
		t.Errorf("%d posts with nothing new", n-100)
	}
	checkMetricsSummary(t, c, m, now)
}

// TestShipMetricsFollowsRotation follows a metrics log that is written a
// line in two parts, rotated and grown, then restarts: every event
// arrives once.
func TestShipMetricsFollowsRotation(t *testing.T) {
	srv := startServer(t, t.TempDir(), nil)
	defer srv.Close()
	c := &client{t: t, base: srv.URL(), user: "admin", pass: "secret-test-password"}
	dir := t.TempDir()
	path := filepath.Join(dir, "apim_metrics.log")
	now := time.Now().UTC()
	m := newMetricsLog(12, now.Add(-time.Hour))
	appendFile(t, path, m.calls(1500))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- shipMetricsTo(ctx, t, io.Discard, srv.URL(), "--state-dir", dir, path) }()
	waitFlushed(t, c, int64(m.events), now)

	// A line written in two parts, a few polls apart, is one event.
	line := m.calls(1)
	half := bytes.LastIndex(line, []byte(`"apiName"`))
	appendFile(t, path, line[:half])
	time.Sleep(3 * shipPoll)
	appendFile(t, path, line[half:])

	// Rotation: more lines, the file renamed and a new one created,
	// which grows.
	appendFile(t, path, m.calls(700))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	rotatedAt := m.line
	appendFile(t, path, m.calls(700))
	time.Sleep(shipPoll)
	appendFile(t, path, m.calls(700))
	checkMetricsSummary(t, c, m, now)

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Restarted on the same state directory: only the new lines go.
	appendFile(t, path, m.calls(300))
	if err := shipMetricsTo(context.Background(), t, io.Discard, srv.URL(), "--state-dir", dir, "--once", path); err != nil {
		t.Fatal(err)
	}
	checkMetricsSummary(t, c, m, now)
	b, err := os.ReadFile(filepath.Join(dir, "apim_metrics.log.apilens-offset"))
	if err != nil || !strings.Contains(string(b), fmt.Sprintf(`"lines":%d`, m.line-rotatedAt)) {
		t.Errorf("offset file %s, %v", b, err)
	}
}

// TestShipEventClient holds the events client to the server's answers:
// back-pressure and 5xx are retried with the same key, a batch of only
// rejected events is an answer, any other 4xx an error with the server's
// text.
func TestShipEventClient(t *testing.T) {
	var answers []func(w http.ResponseWriter)
	var keys []string
	srv := http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		if r.URL.Path != "/api/v1/events" || r.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("POST %s with Content-Encoding %q", r.URL.Path, r.Header.Get("Content-Encoding"))
		}
		a := answers[0]
		answers = answers[1:]
		a(w)
	})}
	ln := listen(t)
	go srv.Serve(ln)
	defer srv.Close()
	answer := func(code int, retryAfter, body string) func(http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(code)
			io.WriteString(w, body)
		}
	}
	var retries int
	c := &eventClient{URL: "http://" + ln.Addr().String() + "/", User: "u", Password: "p", MaxRetries: 2,
		OnRetry: func(error, time.Duration) { retries++ }}

	answers = []func(http.ResponseWriter){answer(429, "0", "busy"), answer(503, "0", "busy"), answer(500, "", "oops"),
		answer(202, "", `{"accepted":1,"rejected":[{"index":1,"error":"field \"requestTimestamp\" is missing"}]}`)}
	ack, err := c.Post(context.Background(), "k1", []byte("{}\n{}\n"))
	if err != nil || ack.Accepted != 1 || len(ack.Rejected) != 1 || ack.Rejected[0].Index != 1 || retries != 3 {
		t.Fatalf("ack %+v, %v after %d retries", ack, err, retries)
	}
	if !slices.Equal(keys, []string{"k1", "k1", "k1", "k1"}) {
		t.Errorf("keys %q", keys)
	}

	answers = []func(http.ResponseWriter){answer(400, "", `{"error":"no valid event in the batch","code":"invalid","rejected":[{"index":0,"error":"not a JSON object"}]}`)}
	if ack, err = c.Post(context.Background(), "k2", []byte("1\n")); err != nil || len(ack.Rejected) != 1 {
		t.Errorf("all rejected: ack %+v, %v", ack, err)
	}

	answers = []func(http.ResponseWriter){answer(403, "", `{"error":"a publisher account is needed"}`)}
	if _, err = c.Post(context.Background(), "k3", []byte("{}\n")); !errors.Is(err, errEventsRefused) || !strings.Contains(err.Error(), "a publisher account is needed") {
		t.Errorf("403: %v", err)
	}

	answers = []func(http.ResponseWriter){answer(500, "", "a"), answer(500, "", "b"), answer(500, "", "c")}
	if _, err = c.Post(context.Background(), "k4", []byte("{}\n")); err == nil || !strings.Contains(err.Error(), "after 2 retries") {
		t.Errorf("5xx thrice: %v", err)
	}
}

func TestShipUsage(t *testing.T) {
	env := &cmdEnv{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }, environ: os.Environ}
	for _, args := range [][]string{
		{"ship", "--format", "carbon", "f.log"},           // carbon needs --source
		{"ship", "--format", "apim-metrics"},              // no file
		{"ship", "--format", "elk", "--source", "s", "f"}, // no such format
	} {
		if err := run(context.Background(), env, args); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}
