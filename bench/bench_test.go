// Package bench measures apilens end to end: the real binary, driven over
// loopback with simulated traffic. `make bench` runs it; the README's
// Performance section quotes its output.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apilens/apilens/simulate"
)

const (
	user     = "admin"
	password = "bench-password"
)

// server is an apilens process under measurement.
type server struct {
	cmd  *exec.Cmd
	base string
	dir  string
}

// build builds the server under measurement, or returns APILENS_BENCH_BIN,
// a binary built before: runs of two builds interleaved are the only fair
// comparison on a machine whose speed drifts.
func build(b *testing.B) string {
	b.Helper()
	if bin := os.Getenv("APILENS_BENCH_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(b.TempDir(), "apilens")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/apilens").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func start(b *testing.B, bin string, env ...string) *server {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := b.TempDir()
	cmd := exec.Command(bin, "server", "--data-dir", dir, "--http-addr", addr)
	cmd.Env = append(append(os.Environ(), "APILENS_ADMIN_USER="+user, "APILENS_ADMIN_PASSWORD="+password, "APILENS_LOG_LEVEL=warn",
		// Any free ports for the data-bridge listeners, unless env names one.
		"APILENS_DATABRIDGE_BINARY_ADDR=127.0.0.1:0", "APILENS_DATABRIDGE_BINARY_TLS_ADDR=127.0.0.1:0",
		"APILENS_DATABRIDGE_THRIFT_ADDR=127.0.0.1:0", "APILENS_DATABRIDGE_THRIFT_TLS_ADDR=127.0.0.1:0"), env...)
	logf, _ := os.Create(filepath.Join(dir, "server.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	s := &server{cmd: cmd, base: "http://" + addr, dir: dir}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(s.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
	}
	b.Fatal("server did not start")
	return nil
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
}

// peakRSS reads the process's high-water mark of resident memory.
func (s *server) peakRSS(b *testing.B) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM in /proc status")
	return 0
}

// cpuSeconds reads the CPU time (user and system) the process has used.
func (s *server) cpuSeconds(b *testing.B) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command, which is in parentheses: utime and
	// stime are the 12th and 13th, in clock ticks (100 a second on Linux).
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100
}

// sampleMemory polls the server's /metrics every 200 ms until the returned
// function is called, which gives the highest Go heap in use seen and the
// resident memory at that moment, in MB: what of the RSS the Go heap is.
func (s *server) sampleMemory() func() (heap, rss float64) {
	var mu sync.Mutex
	var heapMax, rssAt float64
	done := make(chan struct{})
	go func() {
		for t := time.NewTicker(200 * time.Millisecond); ; {
			select {
			case <-done:
				return
			case <-t.C:
			}
			m, err := s.metrics()
			if err != nil {
				continue
			}
			h, r := m["go_memstats_heap_inuse_bytes"], m["process_resident_memory_bytes"]
			mu.Lock()
			if h/(1<<20) > heapMax {
				heapMax, rssAt = h/(1<<20), r/(1<<20)
			}
			mu.Unlock()
		}
	}()
	return func() (float64, float64) {
		close(done)
		mu.Lock()
		defer mu.Unlock()
		return heapMax, rssAt
	}
}

// peakHeapProfile polls the server's heap profile every second until the
// returned function is called, and saves to path the one with the most
// bytes in use (as of the collection before it): what the live heap is
// made of at its peak, for `go tool pprof`.
func (s *server) peakHeapProfile(b *testing.B, path string) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var most int64
		for t := time.NewTicker(time.Second); ; {
			select {
			case <-done:
				return
			case <-t.C:
			}
			var header bytes.Buffer
			if err := s.fetch("/debug/pprof/heap?debug=1", &header); err != nil {
				continue
			}
			// "heap profile: <objects>: <bytes> [...": the in-use bytes.
			var objs, inuse int64
			if _, err := fmt.Sscanf(header.String(), "heap profile: %d: %d", &objs, &inuse); err != nil || inuse <= most {
				continue
			}
			var prof bytes.Buffer
			if err := s.fetch("/debug/pprof/heap", &prof); err == nil {
				most = inuse
				os.WriteFile(path, prof.Bytes(), 0o644)
			}
		}
	}()
	return func() { close(done); <-finished }
}

// fetch reads an admin-only path of the server into w.
func (s *server) fetch(path string, w io.Writer) error {
	req, _ := http.NewRequest("GET", s.base+path, nil)
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	_, err = io.Copy(w, resp.Body)
	return err
}

// saveMetrics writes the server's /metrics to the file APILENS_BENCH_METRICS
// names, if any: the flush durations and sizes of a run.
func (s *server) saveMetrics(b *testing.B) {
	path := os.Getenv("APILENS_BENCH_METRICS")
	if path == "" {
		return
	}
	resp, err := http.Get(s.base + "/metrics")
	if err != nil {
		b.Error(err)
		return
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		b.Error(err)
	}
}

// stored returns the events traffic/summary counts over [from, to).
func (s *server) stored(from, to time.Time) (int64, error) {
	var sum struct{ Requests int64 }
	err := s.getErr("/api/v1/traffic/summary?from="+url.QueryEscape(from.Format(time.RFC3339))+"&to="+url.QueryEscape(to.Format(time.RFC3339)), &sum)
	return sum.Requests, err
}

// watchStored polls traffic/summary over [from, to) every 100 ms until the
// returned function is called, which gives the rate at which events were
// stored meanwhile: those of the flushes after the first one it saw, over
// the time from that flush to the last. It is the rate the rollups are
// stored at under the load, without the wait for the flush after the last
// event that the end-to-end figure includes (up to a flush interval, a
// fifth of a 20 s run); 0 if it saw fewer than two flushes.
func (s *server) watchStored(from, to time.Time) func() float64 {
	stop, done := make(chan struct{}), make(chan float64)
	go func() {
		var first, last time.Time
		var n0, n, prev int64
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				if last.After(first) {
					done <- float64(n-n0) / last.Sub(first).Seconds()
				} else {
					done <- 0
				}
				return
			case <-tick.C:
			}
			got, err := s.stored(from, to)
			if err != nil || got == prev {
				continue
			}
			now := time.Now()
			if prev == 0 {
				first, n0 = now, got
			} else {
				last, n = now, got
			}
			prev = got
		}
	}()
	return func() float64 {
		close(stop)
		return <-done
	}
}

func (s *server) get(b *testing.B, path string, v any) {
	if err := s.getErr(path, v); err != nil {
		b.Fatal(err)
	}
}

func (s *server) getErr(path string, v any) error {
	req, _ := http.NewRequest("GET", s.base+path, nil)
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// waitCounted waits until the server's consumer has counted n events into
// its rollups (apilens_rollup_events_total), stored or not yet.
func (s *server) waitCounted(b *testing.B, n int64) {
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		got := int64(s.metric(b, "apilens_rollup_events_total"))
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("the consumer counted %d events, want %d", got, n)
		}
	}
}

// metric returns the value of the server's metric name (without labels).
func (s *server) metric(b *testing.B, name string) float64 {
	m, err := s.metrics()
	if err != nil {
		b.Fatal(err)
	}
	v, ok := m[name]
	if !ok {
		b.Fatalf("no metric %s", name)
	}
	return v
}

// metrics returns the server's metrics without labels, by name.
func (s *server) metrics() (map[string]float64, error) {
	resp, err := http.Get(s.base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	m := make(map[string]float64)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "{") {
			continue
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			m[name] = f
		}
	}
	return m, sc.Err()
}

// waitRolledUp waits until the summary over [from, to) counts n events.
func (s *server) waitRolledUp(b *testing.B, from, to time.Time, n int64) {
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		got, err := s.stored(from, to)
		if err != nil {
			b.Fatal(err)
		}
		if got == n {
			return
		}
		if got > n || time.Now().After(deadline) {
			b.Fatalf("summary counts %d events, want %d", got, n)
		}
	}
}

// BenchmarkIngest measures ingest with 100 APIs × 1,000 applications of
// simulated traffic posted by 8 connections in batches of 1,000: events/s
// acknowledged (durable in the spool) and events/s rolled up (counted by
// traffic/summary). "paced" posts at a fixed 100,000 events/s (or
// APILENS_BENCH_RATE) and reports how far the rollups lag when posting
// stops: a lag of about one flush interval means the rate is sustained.
// "flat-out" posts as fast as the server acknowledges, an overload that
// fills the spool. APILENS_BENCH_HEAP_PROFILE=FILE saves the server's heap
// profile at its peak, APILENS_BENCH_PROFILE=FILE a CPU profile of the run,
// APILENS_BENCH_METRICS=FILE its metrics.
func BenchmarkIngest(b *testing.B) {
	rate := 100_000.0
	if v, err := strconv.ParseFloat(os.Getenv("APILENS_BENCH_RATE"), 64); err == nil {
		rate = v
	}
	b.Run("paced", func(b *testing.B) { benchIngest(b, rate) })
	b.Run("flat-out", func(b *testing.B) { benchIngest(b, 0) })
}

// benchIngest runs the ingest benchmark against a server started with env
// (APILENS_DATABASE_TYPE and APILENS_DATABASE_URL choose its database).
func benchIngest(b *testing.B, rate float64, env ...string) {
	bin := build(b)
	srv := start(b, bin, env...)
	defer srv.stop()

	const batch, conns = 1000, 16
	dur := 30 * time.Second
	if v, err := time.ParseDuration(os.Getenv("APILENS_BENCH_DURATION")); err == nil {
		dur = v
	}
	opts := simulate.RunOptions{Options: simulate.Options{Seed: 7, APIs: 100, Applications: 1000}, BatchSize: batch}
	bodies := simulate.GenerateBodies(opts, 400*batch)
	t0 := time.Now().Add(-time.Hour)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}}
	mem := srv.sampleMemory()
	if path := os.Getenv("APILENS_BENCH_HEAP_PROFILE"); path != "" {
		stop := srv.peakHeapProfile(b, path)
		defer stop()
	}
	if path := os.Getenv("APILENS_BENCH_PROFILE"); path != "" {
		go srv.profile(b, path, dur-2*time.Second)
	}
	var acked, seq atomic.Int64
	var wg sync.WaitGroup
	cpu0 := srv.cpuSeconds(b)
	begin := time.Now()
	deadline := begin.Add(dur)
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				i := seq.Add(1)
				if rate > 0 { // batch i is due at begin + i·batch/rate
					if d := time.Until(begin.Add(time.Duration(float64(i-1) * batch / rate * float64(time.Second)))); d > 0 {
						time.Sleep(d)
					}
				}
				req, _ := http.NewRequest("POST", srv.base+"/api/v1/events", bytes.NewReader(bodies[int(i)%len(bodies)]))
				req.SetBasicAuth(user, password)
				req.Header.Set("Content-Type", "application/x-ndjson")
				req.Header.Set("Idempotency-Key", "bench-"+strconv.FormatInt(i, 10))
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				var ack struct{ Accepted int64 }
				json.NewDecoder(resp.Body).Decode(&ack)
				resp.Body.Close()
				if resp.StatusCode == 202 {
					acked.Add(ack.Accepted)
				} else if resp.StatusCode != 429 && resp.StatusCode != 503 {
					b.Errorf("POST: %s", resp.Status)
					return
				}
			}
		}()
	}
	wg.Wait()
	ackTime := time.Since(begin)
	n := acked.Load()
	srv.waitRolledUp(b, t0, time.Now().Add(time.Hour), n)
	rollTime := time.Since(begin)
	cpu := srv.cpuSeconds(b) - cpu0
	rss := srv.peakRSS(b)
	heap, heapRSS := mem()
	srv.saveMetrics(b)

	mode := "flat-out"
	if rate > 0 {
		mode = fmt.Sprintf("paced at %.0f/s", rate)
	}
	b.ReportMetric(float64(n)/ackTime.Seconds(), "acked_events/s")
	b.ReportMetric(float64(n)/rollTime.Seconds(), "rolledup_events/s")
	b.ReportMetric((rollTime - ackTime).Seconds(), "lag_s")
	b.ReportMetric(rss, "peak_RSS_MB")
	b.ReportMetric(heap, "peak_Go_heap_MB")
	b.ReportMetric(cpu*1e6/float64(n), "server_CPU_µs/event")
	fmt.Printf("ingest %s: %d events in %.1fs: %.0f events/s acknowledged (durable), all rolled up %.1fs after the last acknowledgement (%.0f events/s end to end); peak RSS %.0f MB (Go heap in use at most %.0f MB; %.0f MB of RSS when it was)\n",
		mode, n, ackTime.Seconds(), float64(n)/ackTime.Seconds(), (rollTime - ackTime).Seconds(), float64(n)/rollTime.Seconds(), rss, heap, heapRSS)
}

// BenchmarkSummaryYear measures traffic/summary over 12 months of data
// from 100 APIs × 1,000 applications: p50 and p99 of 600 queries (no
// filter, an API, an application, both) after a backfill.
func BenchmarkSummaryYear(b *testing.B) { benchSummaryYear(b) }

// benchSummaryYear runs the summary benchmark against a server started
// with env.
func benchSummaryYear(b *testing.B, env ...string) {
	bin := build(b)
	srv := start(b, bin, env...)
	defer srv.stop()

	events := int64(500_000)
	if v, err := strconv.ParseInt(os.Getenv("APILENS_BENCH_YEAR_EVENTS"), 10, 64); err == nil {
		events = v
	}
	now := time.Now().UTC()
	from := now.AddDate(-1, 0, 0)
	opts := simulate.RunOptions{
		Options: simulate.Options{Seed: 11, APIs: 100, Applications: 1000},
		URL:     srv.base, User: user, Password: password,
		BatchSize: 2000, Concurrency: 4, Count: events,
		BackfillFrom: from, BackfillTo: now,
	}
	stats, err := simulate.Run(context.Background(), opts)
	if err != nil {
		b.Fatal(err)
	}
	srv.waitRolledUp(b, from.Add(-time.Hour), now.Add(time.Hour), stats.Accepted)

	var top struct {
		Items []struct{ Labels map[string]string }
	}
	srv.get(b, "/api/v1/traffic/top?dimension=api&limit=100&from="+url.QueryEscape(from.Format(time.RFC3339)), &top)
	var apps struct {
		Items []struct{ Labels map[string]string }
	}
	srv.get(b, "/api/v1/traffic/top?dimension=application&limit=1000&from="+url.QueryEscape(from.Format(time.RFC3339)), &apps)
	rng := rand.New(rand.NewPCG(1, 2))
	var lat []time.Duration
	for i := 0; i < 600; i++ {
		q := "/api/v1/traffic/summary?from=" + url.QueryEscape(from.Format(time.RFC3339)) + "&to=" + url.QueryEscape(now.Format(time.RFC3339))
		if i%2 == 1 && len(top.Items) > 0 {
			q += "&api=" + url.QueryEscape(top.Items[rng.IntN(len(top.Items))].Labels["api"])
		}
		if i%4 >= 2 && len(apps.Items) > 0 {
			q += "&application=" + url.QueryEscape(apps.Items[rng.IntN(len(apps.Items))].Labels["application"])
		}
		t := time.Now()
		var sum map[string]any
		srv.get(b, q, &sum)
		lat = append(lat, time.Since(t))
	}
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	b.ReportMetric(float64(p50.Microseconds())/1000, "summary_p50_ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "summary_p99_ms")
	b.ReportMetric(srv.peakRSS(b), "peak_RSS_MB")
	fmt.Printf("summary over 12 months (%d events, 100 APIs × 1,000 applications): p50 %.2f ms, p99 %.2f ms over %d queries; peak RSS %.0f MB\n",
		stats.Accepted, float64(p50.Microseconds())/1000, float64(p99.Microseconds())/1000, len(lat), srv.peakRSS(b))
}

// BenchmarkLogIngest measures gateway log ingestion: wso2carbon.log text
// (a realistic mix: authentication failures, deployments, INFO lines,
// errors with stack traces) posted by 4 connections in batches of 5,000
// lines, each acknowledged once parsed, classified and committed to the
// database. It reports lines/s and records/s acknowledged.
func BenchmarkLogIngest(b *testing.B) {
	bin := build(b)
	srv := start(b, bin)
	defer srv.stop()

	const batchLines, conns = 5000, 4
	dur := 20 * time.Second
	if v, err := time.ParseDuration(os.Getenv("APILENS_BENCH_DURATION")); err == nil {
		dur = v
	}
	bodies, records := carbonBatches(32, batchLines)
	var lines, recs, seq atomic.Int64
	var wg sync.WaitGroup
	begin := time.Now()
	deadline := begin.Add(dur)
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				i := int(seq.Add(1)) % len(bodies)
				req, _ := http.NewRequest("POST", srv.base+"/api/v1/logs?format=carbon&source=gw-"+strconv.Itoa(i%4), bytes.NewReader(bodies[i]))
				req.SetBasicAuth(user, password)
				req.Header.Set("Content-Type", "text/plain")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				var ack struct{ Accepted int64 }
				json.NewDecoder(resp.Body).Decode(&ack)
				resp.Body.Close()
				if resp.StatusCode != 202 {
					b.Errorf("POST logs: %s", resp.Status)
					return
				}
				if ack.Accepted != int64(records[i]) {
					b.Errorf("POST logs: %d records accepted, want %d", ack.Accepted, records[i])
					return
				}
				lines.Add(int64(bytes.Count(bodies[i], []byte{'\n'})))
				recs.Add(ack.Accepted)
			}
		}()
	}
	wg.Wait()
	el := time.Since(begin).Seconds()
	b.ReportMetric(float64(lines.Load())/el, "lines/s")
	b.ReportMetric(float64(recs.Load())/el, "records/s")
	b.ReportMetric(srv.peakRSS(b), "peak_RSS_MB")
	fmt.Printf("log ingest: %d carbon lines (%d records) in %.1fs: %.0f lines/s parsed, classified and stored (acknowledged); peak RSS %.0f MB\n",
		lines.Load(), recs.Load(), el, float64(lines.Load())/el, srv.peakRSS(b))
}

// carbonBatches returns n bodies of at least lines carbon log lines each,
// and the number of records in each (a stack trace's lines make one
// record).
func carbonBatches(n, lines int) ([][]byte, []int) {
	const handler = "org.wso2.carbon.apimgt.gateway.handlers.security.APIAuthenticationHandler"
	failures := []string{"Invalid Credentials", "Missing Credentials", "Access Token Expired", "Access Token Inactive",
		"Resource forbidden for appName=DefaultApplication for requestURI=/pizzashack/1.0.0/menu"}
	rng := rand.New(rand.NewPCG(3, 4))
	t := time.Now().UTC().Add(-time.Hour)
	bodies, records := make([][]byte, n), make([]int, n)
	for i := range bodies {
		var buf bytes.Buffer
		for l := 0; l < lines; {
			t = t.Add(time.Millisecond * time.Duration(rng.IntN(5)))
			ts := t.Format("2006-01-02 15:04:05,000")
			records[i]++
			switch r := rng.IntN(10); {
			case r < 4:
				fmt.Fprintf(&buf, "TID: [-1234] [] [%s]  WARN {%s} - API authentication failure due to %s\n", ts, handler, failures[rng.IntN(len(failures))])
				l++
			case r < 8:
				fmt.Fprintf(&buf, "TID: [-1234] [] [%s]  INFO {org.apache.synapse.mediators.builtin.LogMediator} - To: /pizzashack/1.0.0/menu, MessageID: urn:uuid:%08x, Direction: request\n", ts, rng.Uint32())
				l++
			case r < 9:
				fmt.Fprintf(&buf, "TID: [-1234] [] [%s]  INFO {org.apache.synapse.rest.API} - Initializing API: admin--API%d:v1.0.0\n", ts, rng.IntN(100))
				l++
			default:
				fmt.Fprintf(&buf, "TID: [-1234] [] [%s] ERROR {org.wso2.carbon.apimgt.impl.APIConsumerImpl} - Error while retrieving subscriptions\n"+
					"org.wso2.carbon.apimgt.api.APIManagementException: Error while retrieving subscriptions\n"+
					"\tat org.wso2.carbon.apimgt.impl.APIConsumerImpl.getSubscriptions(APIConsumerImpl.java:1234)\n"+
					"Caused by: java.sql.SQLException: Connection is closed\n", ts)
				l += 4
			}
		}
		bodies[i] = buf.Bytes()
	}
	return bodies, records
}
