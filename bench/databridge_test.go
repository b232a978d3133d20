package bench

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/databridge"
	"github.com/apilens/apilens/simulate"
)

// BenchmarkBinaryIngest measures the data-bridge binary transport as a
// 3.2 gateway drives it: 8 connections (APILENS_BENCH_CONNS), each publishing batches of 200
// org.wso2.apimgt.statistics.request:3.2.0 events and waiting for the
// answer before the next (the agent has one batch in flight per
// connection), over loopback for 20 s (APILENS_BENCH_DURATION). It reports
// events/s acknowledged (decoded, converted and durable in the spool),
// counted (the consumer has added them to its in-memory rollups:
// apilens_rollup_events_total) and rolled up (stored: counted by
// traffic/summary). Stored trails counted by up to a flush interval (5 s),
// which over a 20 s run weighs a fifth: counted is the throughput, stored
// the freshness; stored under load is the rate of the flushes during the
// run (watchStored). APILENS_BENCH_PROFILE=FILE writes a CPU profile of the
// server during the run, APILENS_BENCH_TRACE=FILE an execution trace of 3 s
// from its middle, APILENS_BENCH_METRICS=FILE its metrics after it.
func BenchmarkBinaryIngest(b *testing.B) {
	bin := build(b)
	addr := freeAddr(b)
	srv := start(b, bin, "APILENS_DATABRIDGE_BINARY_ADDR="+addr)
	defer srv.stop()

	const batch = 200
	conns := 8
	if v, err := strconv.Atoi(os.Getenv("APILENS_BENCH_CONNS")); err == nil && v > 0 {
		conns = v
	}
	dur := 20 * time.Second
	if v, err := time.ParseDuration(os.Getenv("APILENS_BENCH_DURATION")); err == nil {
		dur = v
	}
	sid := binaryLogin(b, addr)
	frames := requestFrames(b, sid, 500, batch)
	t0 := time.Now().Add(-time.Hour)

	mem := srv.sampleMemory()
	if path := os.Getenv("APILENS_BENCH_PROFILE"); path != "" {
		go srv.profile(b, path, dur-2*time.Second)
	}
	if path := os.Getenv("APILENS_BENCH_TRACE"); path != "" {
		go func() {
			time.Sleep(dur / 2)
			srv.pprof(b, path, "trace?seconds=3")
		}()
	}
	var acked, seq atomic.Int64
	var wg sync.WaitGroup
	storing := srv.watchStored(t0, time.Now().Add(time.Hour))
	cpu0 := srv.cpuSeconds(b)
	begin := time.Now()
	deadline := begin.Add(dur)
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				b.Error(err)
				return
			}
			defer conn.Close()
			r := bufio.NewReader(conn)
			for time.Now().Before(deadline) {
				if _, err := conn.Write(frames[int(seq.Add(1))%len(frames)]); err != nil {
					b.Error(err)
					return
				}
				resp, err := databridge.ReadResponse(r)
				if err != nil {
					b.Error(err)
					return
				}
				// A full spool answers with an error; the agent would retry
				// elsewhere. Only acknowledged batches count.
				if resp.Type == databridge.ResponseOK {
					acked.Add(batch)
				}
			}
		}()
	}
	wg.Wait()
	ackTime := time.Since(begin)
	storedRate := storing()
	n := acked.Load()
	srv.waitCounted(b, n)
	countTime := time.Since(begin)
	srv.waitRolledUp(b, t0, time.Now().Add(time.Hour), n)
	rollTime := time.Since(begin)
	cpu := srv.cpuSeconds(b) - cpu0
	rss := srv.peakRSS(b)
	heap, _ := mem()
	srv.saveMetrics(b)

	b.ReportMetric(float64(n)/ackTime.Seconds(), "acked_events/s")
	b.ReportMetric(float64(n)/countTime.Seconds(), "counted_events/s")
	b.ReportMetric((countTime - ackTime).Seconds(), "count_lag_s")
	b.ReportMetric(float64(n)/rollTime.Seconds(), "rolledup_events/s")
	b.ReportMetric((rollTime - ackTime).Seconds(), "lag_s")
	b.ReportMetric(storedRate, "stored_under_load_events/s")
	b.ReportMetric(rss, "peak_RSS_MB")
	b.ReportMetric(heap, "peak_Go_heap_MB")
	b.ReportMetric(cpu*1e6/float64(n), "server_CPU_µs/event")
	fmt.Printf("binary data-bridge ingest, %d connections, batches of %d: %d events in %.1fs: %.0f events/s decoded and acknowledged (durable), all counted into the rollups %.1fs after the last acknowledgement (%.0f events/s), all stored and visible %.1fs after it (%.0f events/s end to end; %.0f events/s stored by the flushes during the run); peak RSS %.0f MB\n",
		conns, batch, n, ackTime.Seconds(), float64(n)/ackTime.Seconds(), (countTime - ackTime).Seconds(), float64(n)/countTime.Seconds(),
		(rollTime - ackTime).Seconds(), float64(n)/rollTime.Seconds(), storedRate, rss)
}

// profile writes a CPU profile of the server over the next d to path, for
// `go tool pprof`: where the time of a run goes.
func (s *server) profile(b *testing.B, path string, d time.Duration) {
	s.pprof(b, path, fmt.Sprintf("profile?seconds=%d", int(d.Seconds())))
}

// pprof saves the server's /debug/pprof/<what> to path.
func (s *server) pprof(b *testing.B, path, what string) {
	req, _ := http.NewRequest("GET", s.base+"/debug/pprof/"+what, nil)
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		b.Error(err)
		return
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		b.Error(err)
	}
}

func freeAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// binaryLogin logs the bench's user in over the plain listener; the
// session serves every connection.
func binaryLogin(b *testing.B, addr string) string {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(databridge.AppendLoginFrame(nil, user, password)); err != nil {
		b.Fatal(err)
	}
	resp, err := databridge.ReadResponse(c)
	if err != nil || resp.Type != databridge.ResponseLoginOK {
		b.Fatalf("login: %+v %v", resp, err)
	}
	return resp.SessionID
}

// requestFrames encodes n publish frames of simulated traffic (100 APIs ×
// 1,000 applications) as 3.2 gateways publish it, all in the last hour.
func requestFrames(b *testing.B, sid string, n, batch int) [][]byte {
	g := simulate.NewGenerator(simulate.Options{Seed: 7, APIs: 100, Applications: 1000})
	reg := databridge.NewRegistry()
	start := time.Now().Add(-59 * time.Minute)
	evs := make([]databridge.Event, batch)
	frames := make([][]byte, n)
	var e apilens.Event
	for f := range frames {
		for i := range evs {
			g.Next(&e, start.Add(time.Duration(f*batch+i)*time.Millisecond))
			evs[i] = requestEvent(&e)
		}
		var err error
		if frames[f], err = databridge.AppendPublishFrame(nil, sid, reg, evs); err != nil {
			b.Fatal(err)
		}
	}
	return frames
}

// requestEvent is e as a 3.2 gateway's request event.
func requestEvent(e *apilens.Event) databridge.Event {
	ms := e.RequestTimestamp.UnixMilli()
	return databridge.Event{
		StreamID: databridge.StreamRequest + ":3.2.0", Timestamp: ms, Meta: []any{"producer"},
		Payload: []any{
			"ck-" + e.ApplicationID, e.ApplicationName, e.ApplicationID, e.ApplicationOwner, e.APIContext, e.APIName,
			e.APIVersion, e.APIResourceTemplate, e.APIResourceTemplate, e.APIMethod, e.APICreator, e.APICreatorTenantDomain,
			"Unlimited", "gw.example.com", e.UserName, e.APICreatorTenantDomain, e.UserIP, e.UserAgentHeader, ms,
			false, max(e.ResponseLatency, 0), max(e.ResponseLatency-e.BackendLatency, 0), max(e.BackendLatency, 0),
			e.ResponseCacheHit, int64(1024), "https-8243", int32(e.ProxyResponseCode), e.Destination, int64(1), int64(0),
			max(e.RequestMediationLatency, 0), max(e.ResponseMediationLatency, 0), max(e.BackendLatency, 0), int64(0),
			"SYNAPSE", "Default", "{}",
		},
	}
}
