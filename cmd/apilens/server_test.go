package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/config"
	"github.com/apilens/apilens/ingest"
	"github.com/apilens/apilens/simulate"
)

// startServer runs a whole server in-process on port 0 with a temp data
// directory and admin/secret credentials.
func startServer(t *testing.T, dataDir string, tweak func(*config.Config)) *Main {
	t.Helper()
	cfg := config.Default()
	cfg.Server.DataDir = dataDir
	cfg.Server.HTTPAddr = "127.0.0.1:0"
	cfg.Admin.User = "admin"
	cfg.Admin.Password = "secret-test-password"
	cfg.Ingest.FlushInterval = config.Duration(200 * time.Millisecond)
	cfg.Ingest.CoarseFlushInterval = config.Duration(300 * time.Millisecond)
	// Tests run side by side: the data-bridge listeners take any free port.
	cfg.Databridge = config.DatabridgeConfig{BinaryAddr: "127.0.0.1:0", BinaryTLSAddr: "127.0.0.1:0",
		ThriftAddr: "127.0.0.1:0", ThriftTLSAddr: "127.0.0.1:0"}
	if tweak != nil {
		tweak(cfg)
	}
	cfg.Resolve()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := m.Open(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	return m
}

type client struct {
	t    *testing.T
	base string
	user string
	pass string
}

func (c *client) do(method, path string, body []byte, hdr map[string]string) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (c *client) getJSON(path string, v any) {
	c.t.Helper()
	code, b := c.do("GET", path, nil, nil)
	if code != 200 {
		c.t.Fatalf("GET %s: %d %s", path, code, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		c.t.Fatalf("GET %s: %v: %s", path, err, b)
	}
}

type summaryAnswer struct {
	Requests, Successful, Faults, Throttled, Errors4xx, Errors5xx int64
	Latency                                                       struct{ Avg, P50, P95, P99 float64 }
	From, To                                                      time.Time
}

// bruteForce computes a summary straight from the events, by SPEC §5.
func bruteForce(events []apilens.Event, from, to time.Time, match func(*apilens.Event) bool) (s summaryAnswer, lat []float64) {
	for i := range events {
		e := &events[i]
		if e.RequestTimestamp.Before(from) || !e.RequestTimestamp.Before(to) || (match != nil && !match(e)) {
			continue
		}
		s.Requests++
		switch {
		case e.IsThrottled():
			s.Throttled++
		case e.IsFault():
			s.Faults++
		default:
			if e.ProxyResponseCode < 400 {
				s.Successful++
			}
			if e.ResponseLatency >= 0 {
				lat = append(lat, float64(e.ResponseLatency))
			}
		}
		switch e.ProxyResponseCode / 100 {
		case 4:
			s.Errors4xx++
		case 5:
			s.Errors5xx++
		}
	}
	slices.Sort(lat)
	return s, lat
}

func checkQuantile(t *testing.T, what string, lat []float64, q, got float64) {
	t.Helper()
	if len(lat) == 0 {
		return
	}
	want := lat[int(q*float64(len(lat)-1))]
	if math.Abs(got-want) > 0.01*want+0.01 {
		t.Errorf("%s: p%v = %v, exact %v: off by more than 1%%", what, q*100, got, want)
	}
}

func TestServerAnswersEqualBruteForce(t *testing.T) {
	m := startServer(t, t.TempDir(), nil)
	defer m.Close()
	c := &client{t: t, base: m.URL(), user: "admin", pass: "secret-test-password"}

	// Ten days of history ending now: minute rows exist only for the last
	// 72 hours, so ranges exercise every granularity and the widening.
	now := time.Now().UTC()
	gen := simulate.NewGenerator(simulate.Options{Seed: 42, APIs: 12, Applications: 40})
	rng := rand.New(rand.NewPCG(42, 1))
	var posted []apilens.Event
	var ps ingest.Parser
	for batch := 0; batch < 40; batch++ {
		var body []byte
		var e apilens.Event
		for i := 0; i < 250; i++ {
			ts := now.Add(-time.Duration(rng.Int64N(int64(240 * time.Hour))))
			gen.Next(&e, ts)
			body = simulate.AppendNDJSON(body, &e)
		}
		// One bad item per batch; it must cost nothing else.
		body = append(body, `{"requestTimestamp":"2026-01-01T00:00:00Z","proxyResponseCode":"oops"}`+"\n"...)
		key := fmt.Sprintf("batch-%d", batch)
		code, resp := c.do("POST", "/api/v1/events", body, map[string]string{"Content-Type": "application/x-ndjson", "Idempotency-Key": key})
		if code != 202 {
			t.Fatalf("batch %d: %d %s", batch, code, resp)
		}
		var ack struct {
			Accepted int
			Rejected []ingest.Rejection
		}
		json.Unmarshal(resp, &ack)
		if ack.Accepted != 250 || len(ack.Rejected) != 1 || ack.Rejected[0].Index != 250 ||
			!strings.Contains(ack.Rejected[0].Error, "proxyResponseCode") {
			t.Fatalf("batch %d: ack %s", batch, resp)
		}
		// A retry of every fourth batch is acknowledged, not counted.
		if batch%4 == 0 {
			code, resp := c.do("POST", "/api/v1/events", body, map[string]string{"Idempotency-Key": key})
			if code != 202 || !strings.Contains(string(resp), `"duplicate":true`) {
				t.Fatalf("retry of batch %d: %d %s", batch, code, resp)
			}
		}
		evs, _, err := ps.ParseEvents(body, nil)
		if err != nil {
			t.Fatal(err)
		}
		posted = append(posted, evs...)
	}
	waitFlushed(t, c, int64(len(posted)), now)

	// The raw batches hold every accepted event once, as posted.
	correlation := map[string]int{}
	for _, e := range posted {
		correlation[e.CorrelationID]++
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		raw := 0
		seen := map[string]int{}
		err := m.Store.RawBatches(context.Background(), now.Add(-400*time.Hour), now.Add(time.Hour), func(rb *apilens.RawBatch) error {
			return ingest.DecodeRaw(rb, func(e *apilens.Event) error {
				raw++
				seen[e.CorrelationID]++
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		if raw == len(posted) {
			for id, n := range correlation {
				if seen[id] != n {
					t.Fatalf("raw events: correlation id %s seen %d times, posted %d", id, seen[id], n)
				}
			}
			break
		}
		if raw > len(posted) || time.Now().After(deadline) {
			t.Fatalf("raw events: %d stored, want %d", raw, len(posted))
		}
		time.Sleep(50 * time.Millisecond)
	}

	check := func(from, to time.Time, params string, match func(*apilens.Event) bool) {
		t.Helper()
		from, to = from.Truncate(time.Second), to.Truncate(time.Second) // as sent: RFC 3339 seconds
		var got summaryAnswer
		c.getJSON("/api/v1/traffic/summary?from="+url.QueryEscape(from.Format(time.RFC3339))+"&to="+url.QueryEscape(to.Format(time.RFC3339))+params, &got)
		// The answer says which range it covered (edges widen where minutes were purged).
		if got.From.After(from) || got.To.Before(to) {
			t.Fatalf("covered [%v,%v) does not contain asked [%v,%v)", got.From, got.To, from, to)
		}
		want, lat := bruteForce(posted, got.From, got.To, match)
		what := fmt.Sprintf("[%s, %s)%s", got.From.Format(time.RFC3339), got.To.Format(time.RFC3339), params)
		if got.Requests != want.Requests || got.Successful != want.Successful || got.Faults != want.Faults ||
			got.Throttled != want.Throttled || got.Errors4xx != want.Errors4xx || got.Errors5xx != want.Errors5xx {
			t.Errorf("%s: got %+v, want %+v", what, got, want)
		}
		checkQuantile(t, what, lat, 0.5, got.Latency.P50)
		checkQuantile(t, what, lat, 0.95, got.Latency.P95)
		checkQuantile(t, what, lat, 0.99, got.Latency.P99)
	}
	check(now.Add(-300*time.Hour), now.Add(time.Hour), "", nil)
	for i := 0; i < 60; i++ {
		a := now.Add(-time.Duration(rng.Int64N(int64(250 * time.Hour))))
		b := a.Add(time.Duration(rng.Int64N(int64(100 * time.Hour))))
		e := posted[rng.IntN(len(posted))]
		switch i % 4 {
		case 0:
			check(a, b, "", nil)
		case 1:
			check(a, b, "&api="+url.QueryEscape(e.APIName), func(x *apilens.Event) bool { return x.APIName == e.APIName })
		case 2:
			check(a, b, "&application="+url.QueryEscape(e.ApplicationName), func(x *apilens.Event) bool { return x.ApplicationName == e.ApplicationName })
		case 3:
			check(a, b, "&api="+url.QueryEscape(e.APIName)+"&application="+url.QueryEscape(e.ApplicationName),
				func(x *apilens.Event) bool { return x.APIName == e.APIName && x.ApplicationName == e.ApplicationName })
		}
	}

	// Top APIs over the whole range equal the brute-force counts.
	var top struct {
		Items []struct {
			Key      string
			Requests int64
		}
	}
	from, to := now.Add(-300*time.Hour), now.Add(time.Hour)
	c.getJSON("/api/v1/traffic/top?dimension=api&limit=1000&from="+url.QueryEscape(from.Format(time.RFC3339))+"&to="+url.QueryEscape(to.Format(time.RFC3339)), &top)
	perAPI := map[string]int64{}
	for _, e := range posted {
		perAPI[e.APIName]++
	}
	if len(top.Items) != len(perAPI) {
		t.Fatalf("top: %d APIs, want %d", len(top.Items), len(perAPI))
	}
	for i, it := range top.Items {
		if it.Requests != perAPI[it.Key] {
			t.Errorf("top: %s = %d, want %d", it.Key, it.Requests, perAPI[it.Key])
		}
		if i > 0 && it.Requests > top.Items[i-1].Requests {
			t.Errorf("top not sorted at %d", i)
		}
	}

	// A series grouped by API at hour grain equals the per-API, per-hour counts.
	{
		var ts struct {
			From, To time.Time
			Series   []struct {
				Key    string
				Points []struct {
					T        time.Time
					Requests int64
				}
			}
		}
		from, to := now.Add(-30*time.Hour), now
		c.getJSON("/api/v1/traffic/timeseries?granularity=hour&groupBy=api&limit=1000&from="+url.QueryEscape(from.Format(time.RFC3339))+"&to="+url.QueryEscape(to.Format(time.RFC3339)), &ts)
		want := map[string]int64{}
		for _, e := range posted {
			if !e.RequestTimestamp.Before(ts.From) && e.RequestTimestamp.Before(ts.To) {
				want[e.APIName+"@"+e.RequestTimestamp.Truncate(time.Hour).Format(time.RFC3339)]++
			}
		}
		got := map[string]int64{}
		for _, ser := range ts.Series {
			for _, p := range ser.Points {
				if p.Requests > 0 {
					got[ser.Key+"@"+p.T.Format(time.RFC3339)] = p.Requests
				}
			}
		}
		if len(got) != len(want) {
			t.Fatalf("grouped series: %d non-empty cells, want %d", len(got), len(want))
		}
		for k, n := range want {
			if got[k] != n {
				t.Errorf("grouped series %s: %d, want %d", k, got[k], n)
			}
		}
	}

	// A time series sums to the summary of the range it covers.
	for _, g := range []string{"auto", "hour", "day"} {
		var ts struct {
			Granularity string
			From, To    time.Time
			Series      []struct{ Points []struct{ Requests int64 } }
		}
		c.getJSON("/api/v1/traffic/timeseries?granularity="+g+"&from="+url.QueryEscape(now.Add(-48*time.Hour).Format(time.RFC3339))+"&to="+url.QueryEscape(now.Format(time.RFC3339)), &ts)
		var sum int64
		for _, p := range ts.Series[0].Points {
			sum += p.Requests
		}
		want, _ := bruteForce(posted, ts.From, ts.To, nil)
		if sum != want.Requests {
			t.Errorf("timeseries %s (%s): sum %d, want %d", g, ts.Granularity, sum, want.Requests)
		}
	}
}

// waitFlushed polls the summary until it counts n events.
func waitFlushed(t *testing.T, c *client, n int64, now time.Time) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var s summaryAnswer
		c.getJSON("/api/v1/traffic/summary?from="+url.QueryEscape(now.Add(-400*time.Hour).Format(time.RFC3339))+"&to="+url.QueryEscape(now.Add(time.Hour).Format(time.RFC3339)), &s)
		if s.Requests == n {
			return
		}
		if s.Requests > n || time.Now().After(deadline) {
			t.Fatalf("summary counts %d events, want %d", s.Requests, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestIngestErrors(t *testing.T) {
	m := startServer(t, t.TempDir(), func(c *config.Config) { c.Ingest.MaxBodyBytes = 4096 })
	defer m.Close()
	c := &client{t: t, base: m.URL(), user: "admin", pass: "secret-test-password"}
	cases := []struct {
		name string
		c    *client
		body string
		code int
		want string
	}{
		{"no credentials", &client{t: t, base: c.base}, "{}", 401, "credentials required"},
		{"wrong password", &client{t: t, base: c.base, user: "admin", pass: "nope"}, "{}", 401, "wrong user name or password"},
		{"empty", c, "", 400, "no events"},
		{"all bad", c, `{"apiName":"x"}`, 400, `requestTimestamp`},
		{"broken array", c, `[{"requestTimestamp":"2026-01-01T00:00:00Z"},`, 400, "not a valid JSON array"},
		{"too large", c, strings.Repeat(" ", 5000), 413, "over the limit"},
	}
	for _, tc := range cases {
		code, body := tc.c.do("POST", "/api/v1/events", []byte(tc.body), nil)
		if code != tc.code || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: %d %s, want %d and %q", tc.name, code, body, tc.code, tc.want)
		}
	}
	// A small gzip body that inflates past the limit is refused like a big one.
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(bytes.Repeat([]byte(" "), 1<<20))
	zw.Close()
	if bomb.Len() > 4096 {
		t.Fatalf("test bomb is %d bytes compressed", bomb.Len())
	}
	if code, body := c.do("POST", "/api/v1/events", bomb.Bytes(), map[string]string{"Content-Encoding": "gzip"}); code != 413 {
		t.Errorf("gzip bomb: %d %s, want 413", code, body)
	}
	if code, body := c.do("POST", "/api/v1/events", []byte("not gzip"), map[string]string{"Content-Encoding": "gzip"}); code != 400 || !strings.Contains(string(body), "gzip") {
		t.Errorf("bad gzip: %d %s, want 400 naming gzip", code, body)
	}

	code, body := c.do("GET", "/api/v1/traffic/top?dimension=planet", nil, nil)
	if code != 400 || !strings.Contains(string(body), `unknown dimension \"planet\"`) {
		t.Errorf("bad dimension: %d %s", code, body)
	}
}
