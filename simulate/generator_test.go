package simulate

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apilens/apilens"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// events returns n events of g, one every step from t0.
func events(g *Generator, n int, step time.Duration) []apilens.Event {
	out := make([]apilens.Event, n)
	for i := range out {
		g.Next(&out[i], t0.Add(time.Duration(i)*step))
	}
	return out
}

func encodeAll(g *Generator, n int) []byte {
	var e apilens.Event
	var b []byte
	for i := range n {
		g.Next(&e, t0.Add(time.Duration(i)*time.Second))
		b = AppendNDJSON(b, &e)
	}
	return b
}

func TestDeterminism(t *testing.T) {
	a := encodeAll(NewGenerator(Options{Seed: 42}), 5000)
	b := encodeAll(NewGenerator(Options{Seed: 42}), 5000)
	if !bytes.Equal(a, b) {
		t.Fatal("the same seed gave different events")
	}
	c := encodeAll(NewGenerator(Options{Seed: 43}), 5000)
	if bytes.Equal(a, c) {
		t.Fatal("different seeds gave the same events")
	}

	o := RunOptions{Options: Options{Seed: 7}, BatchSize: 100, BackfillFrom: t0, BackfillTo: t0.Add(24 * time.Hour)}
	x, y := GenerateBodies(o, 1000), GenerateBodies(o, 1000)
	if len(x) != 10 || !slices.EqualFunc(x, y, bytes.Equal) {
		t.Fatal("backfilled bodies differ between runs with the same seed")
	}
}

func TestPlatformDoesNotDependOnSeed(t *testing.T) {
	a, b := NewGenerator(Options{Seed: 1}), NewGenerator(Options{Seed: 2})
	for i := range a.p.apps {
		if a.p.apps[i].id != b.p.apps[i].id || a.p.apps[i].name != b.p.apps[i].name {
			t.Fatalf("application %d differs between seeds", i)
		}
	}
	big := NewGenerator(Options{APIs: 100, Applications: 1000})
	if len(big.p.apps) != 1000 {
		t.Fatalf("%d applications, want 1000", len(big.p.apps))
	}
	names := map[string]bool{}
	for _, api := range big.p.apis {
		names[api.name] = true
		if len(api.resources) < 3 || len(api.resources) > 12 {
			t.Errorf("%s %s has %d resources", api.name, api.version, len(api.resources))
		}
	}
	if len(names) != 100 {
		t.Fatalf("%d distinct API names, want 100", len(names))
	}
	if a.p.apis[0].id != big.p.apis[0].id {
		t.Error("the first API's id depends on the number of APIs")
	}
}

// faultWant is what a fault code must come with (REFERENCE §3 and §7).
var faultWant = map[int]struct {
	typ, msg string
	status   []int
}{
	900900: {"AUTH", "AUTHENTICATION_FAILURE", []int{401}},
	900901: {"AUTH", "AUTHENTICATION_FAILURE", []int{401}},
	900902: {"AUTH", "AUTHENTICATION_FAILURE", []int{401}},
	900903: {"AUTH", "AUTHENTICATION_FAILURE", []int{401}},
	900904: {"AUTH", "AUTHENTICATION_FAILURE", []int{401}},
	900905: {"AUTH", "AUTHORIZATION_FAILURE", []int{401}},
	900910: {"AUTH", "AUTHORIZATION_FAILURE", []int{403}},
	900907: {"AUTH", "SUBSCRIPTION_VALIDATION_FAILURE", []int{503}},
	900908: {"AUTH", "SUBSCRIPTION_VALIDATION_FAILURE", []int{403}},
	900909: {"AUTH", "SUBSCRIPTION_VALIDATION_FAILURE", []int{403}},
	900800: {"THROTTLED", "API_LEVEL_LIMIT_EXCEEDED", []int{429}},
	900801: {"THROTTLED", "HARD_LIMIT_EXCEEDED", []int{429}},
	900802: {"THROTTLED", "RESOURCE_LEVEL_LIMIT_EXCEEDED", []int{429}},
	900803: {"THROTTLED", "APPLICATION_LEVEL_LIMIT_EXCEEDED", []int{429}},
	900804: {"THROTTLED", "SUBSCRIPTION_LIMIT_EXCEEDED", []int{429}},
	900805: {"THROTTLED", "BLOCKED", []int{403}},
	900806: {"THROTTLED", "CUSTOM_POLICY_LIMIT_EXCEEDED", []int{429}},
	900807: {"THROTTLED", "BURST_CONTROL_LIMIT_EXCEEDED", []int{429}},
	900820: {"THROTTLED", "QUERY_TOO_DEEP", []int{400}},
	900821: {"THROTTLED", "QUERY_TOO_COMPLEX", []int{400}},
	101503: {"TARGET_CONNECTIVITY", "CONNECTION_SUSPENDED", []int{503}},
	303001: {"TARGET_CONNECTIVITY", "CONNECTION_SUSPENDED", []int{503}},
	101504: {"TARGET_CONNECTIVITY", "CONNECTION_TIMEOUT", []int{504}},
	101508: {"TARGET_CONNECTIVITY", "CONNECTION_TIMEOUT", []int{504}},
	404:    {"OTHER", "RESOURCE_NOT_FOUND", []int{404}},
	405:    {"OTHER", "METHOD_NOT_ALLOWED", []int{405}},
	500:    {"OTHER", "MEDIATION_ERROR", []int{500}},
}

func TestMix(t *testing.T) {
	const n = 100_000
	evs := events(NewGenerator(Options{Seed: 1}), n, time.Second)

	var success, faults int
	byType := map[string]int{}
	byMsg := map[string]int{}
	codes := map[int]int{}
	apiTypes := map[string]int{}
	tenants := map[string]bool{}
	users := map[string]bool{}
	var cacheHits, xff, v6, private, anonymous, sandbox int
	var lat []float64
	for i := range evs {
		e := &evs[i]
		tenants[e.APICreatorTenantDomain] = true
		apiTypes[e.APIType]++
		if e.KeyType == "SANDBOX" {
			sandbox++
		}
		if e.RequestTimestamp.IsZero() || e.APIName == "" || e.APIID == "" || e.CorrelationID == "" || e.GatewayType != "SYNAPSE" || e.RegionID == "" {
			t.Fatalf("event %d misses identity fields: %+v", i, e)
		}
		if e.APICreatorTenantDomain != "carbon.super" && !strings.HasPrefix(e.APIContext, "/t/"+e.APICreatorTenantDomain+"/") && e.APIContext != "" {
			t.Fatalf("tenant API context %q", e.APIContext)
		}
		if len(e.Properties) > 0 {
			xff++
			var p map[string]string
			if err := json.Unmarshal(e.Properties, &p); err != nil || p["X-Forwarded-For"] == "" {
				t.Fatalf("properties %s", e.Properties)
			}
		}
		if e.IsFault() {
			faults++
			byType[e.ErrorType]++
			byMsg[e.ErrorMessage]++
			w, ok := faultWant[e.ErrorCode]
			if !ok || w.typ != e.ErrorType || w.msg != e.ErrorMessage || !slices.Contains(w.status, e.ProxyResponseCode) {
				t.Fatalf("fault %s/%s code %d status %d does not match REFERENCE", e.ErrorType, e.ErrorMessage, e.ErrorCode, e.ProxyResponseCode)
			}
			if e.ResponseLatency != 0 || e.BackendLatency != 0 || e.RequestMediationLatency != 0 || e.ResponseMediationLatency != 0 || e.ResponseCacheHit {
				t.Fatalf("fault event with response fields: %+v", e)
			}
			continue
		}
		if e.ErrorType != "" || e.ErrorCode != 0 || e.ErrorMessage != "" {
			t.Fatalf("response event with error fields: %+v", e)
		}
		if e.UserName == "" {
			anonymous++
		}
		users[e.UserName] = true
		ip, err := netip.ParseAddr(e.UserIP)
		if err != nil {
			t.Fatalf("userIp %q: %v", e.UserIP, err)
		}
		if ip.Is6() {
			v6++
		}
		if ip.IsPrivate() && len(e.Properties) == 0 {
			private++
		}
		codes[e.ProxyResponseCode]++
		if e.ProxyResponseCode < 400 {
			success++
		}
		if e.ResponseCacheHit {
			cacheHits++
			if e.BackendLatency != 0 {
				t.Fatalf("cache hit with backend latency %d", e.BackendLatency)
			}
		}
		if parts := e.BackendLatency + e.RequestMediationLatency + e.ResponseMediationLatency; e.ResponseLatency < parts || e.ResponseLatency > parts+3 {
			t.Fatalf("responseLatency %d, parts add up to %d", e.ResponseLatency, parts)
		}
		lat = append(lat, float64(e.ResponseLatency))
	}

	ratio := float64(success) / n
	t.Logf("success %.3f, faults %d %v, codes %v, api types %v", ratio, faults, byType, codes, apiTypes)
	if ratio < 0.85 || ratio > 0.92 {
		t.Errorf("success ratio %.3f, want 0.85–0.92", ratio)
	}
	for _, typ := range []string{"AUTH", "THROTTLED", "TARGET_CONNECTIVITY", "OTHER"} {
		if byType[typ] < 50 {
			t.Errorf("%d %s faults", byType[typ], typ)
		}
	}
	for _, msg := range []string{"AUTHENTICATION_FAILURE", "AUTHORIZATION_FAILURE", "SUBSCRIPTION_VALIDATION_FAILURE",
		"APPLICATION_LEVEL_LIMIT_EXCEEDED", "SUBSCRIPTION_LIMIT_EXCEEDED", "CONNECTION_TIMEOUT", "CONNECTION_SUSPENDED",
		"RESOURCE_NOT_FOUND", "METHOD_NOT_ALLOWED", "MEDIATION_ERROR"} {
		if byMsg[msg] == 0 {
			t.Errorf("no %s fault", msg)
		}
	}
	for _, c := range []int{200, 201, 204, 304, 400, 404, 409, 500, 502, 503, 504} {
		if codes[c] == 0 {
			t.Errorf("no response with status %d", c)
		}
	}
	if share := float64(apiTypes["GRAPHQL"]) / n; share == 0 || share > 0.2 {
		t.Errorf("GraphQL share %.3f", share)
	}
	if share := float64(apiTypes["WS"]) / n; share == 0 || share > 0.05 {
		t.Errorf("WebSocket share %.3f, want rare", share)
	}
	if len(tenants) < 3 {
		t.Errorf("%d tenants", len(tenants))
	}
	for name, count := range map[string]int{"cache hits": cacheHits, "X-Forwarded-For": xff, "IPv6 clients": v6, "private clients": private, "anonymous calls": anonymous, "sandbox calls": sandbox} {
		if count < n/1000 {
			t.Errorf("%d %s", count, name)
		}
	}
	if len(users) < 1000 {
		t.Errorf("%d distinct users", len(users))
	}

	slices.Sort(lat)
	q := func(p float64) float64 { return lat[int(p*float64(len(lat)-1))] }
	mean := 0.0
	for _, v := range lat {
		mean += v
	}
	mean /= float64(len(lat))
	p50, p90, p99, maxLat := q(0.5), q(0.9), q(0.99), lat[len(lat)-1]
	t.Logf("latency ms: p50 %.0f p90 %.0f p99 %.0f max %.0f mean %.0f", p50, p90, p99, maxLat, mean)
	if p50 < 10 || p50 > 300 {
		t.Errorf("median latency %.0f ms", p50)
	}
	if p99 < 5*p50 || maxLat < 10_000 || mean <= p50 {
		t.Errorf("latency is not long-tailed: p50 %.0f p99 %.0f max %.0f mean %.0f", p50, p99, maxLat, mean)
	}
}

func TestPopularity(t *testing.T) {
	evs := events(NewGenerator(Options{Seed: 3}), 50_000, time.Second)
	for _, dim := range []struct {
		name string
		key  func(*apilens.Event) string
	}{
		{"application", func(e *apilens.Event) string { return e.ApplicationID }},
		{"api", func(e *apilens.Event) string { return e.APIName }},
		{"user", func(e *apilens.Event) string { return e.UserName }},
	} {
		counts := map[string]int{}
		for i := range evs {
			if k := dim.key(&evs[i]); k != "" && k != apilens.Unknown {
				counts[k]++
			}
		}
		var c []int
		for _, v := range counts {
			c = append(c, v)
		}
		slices.Sort(c)
		slices.Reverse(c)
		median := c[len(c)/2]
		t.Logf("%s: %d distinct, top %d, median %d", dim.name, len(c), c[0], median)
		if len(c) < 20 || c[0] < 10*median {
			t.Errorf("%s popularity is not skewed: %d distinct, top %d, median %d", dim.name, len(c), c[0], median)
		}
	}
}

type groupKey struct {
	window int64
	a, b   string
}

func TestThrottleBursts(t *testing.T) {
	evs := events(NewGenerator(Options{Seed: 1}), 100_000, time.Second)
	groups := map[groupKey]int{}
	total := 0
	for i := range evs {
		e := &evs[i]
		if e.IsThrottled() {
			total++
			groups[groupKey{e.RequestTimestamp.Unix() / 600, e.ApplicationID, e.APIID}]++
		}
	}
	inBursts, biggest := 0, 0
	for _, c := range groups {
		if c >= 20 {
			inBursts += c
		}
		biggest = max(biggest, c)
	}
	t.Logf("%d throttled, %d in bursts, biggest %d in 10 minutes", total, inBursts, biggest)
	if inBursts < total/2 || biggest < 40 {
		t.Errorf("throttling is not bursty: %d of %d throttled events in bursts, biggest %d", inBursts, total, biggest)
	}
}

func TestBackendTrouble(t *testing.T) {
	evs := events(NewGenerator(Options{Seed: 1}), 100_000, time.Second)
	calls, failed := map[groupKey]int{}, map[groupKey]int{}
	for i := range evs {
		e := &evs[i]
		k := groupKey{e.RequestTimestamp.Unix() / 900, e.APIID, ""}
		calls[k]++
		if e.ErrorType == apilens.FaultTargetConnectivity || (!e.IsFault() && e.ProxyResponseCode >= 502) {
			failed[k]++
		}
	}
	episodes := 0
	for k, c := range calls {
		if c >= 30 && float64(failed[k]) > 0.1*float64(c) {
			episodes++
		}
	}
	if episodes < 3 {
		t.Errorf("%d backend trouble episodes in 28 hours", episodes)
	}
}

func TestEpisodesAreFunctionsOfTime(t *testing.T) {
	// Backfill visits instants out of order; an episode must not depend
	// on what came before.
	g := NewGenerator(Options{Seed: 9})
	seq := make([]*burst, 200)
	for i := range seq {
		seq[i] = clone(g.bursts.at(g.seed, t0.Add(time.Duration(i)*7*time.Minute)))
	}
	for _, i := range []int{150, 3, 77, 3, 199, 0} {
		got := clone(g.bursts.at(g.seed, t0.Add(time.Duration(i)*7*time.Minute)))
		if (got == nil) != (seq[i] == nil) || (got != nil && (got.app != seq[i].app || got.api != seq[i].api)) {
			t.Fatalf("burst at slot %d changed when visited out of order", i)
		}
	}
	active := 0
	for _, b := range seq {
		if b != nil {
			active++
		}
	}
	if share := float64(active) / float64(len(seq)); share < 0.02 || share > 0.3 {
		t.Errorf("bursts under way %.2f of the time", share)
	}
}

func clone[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func TestSampler(t *testing.T) {
	weights := []float64{5, 1, 0, 3, 1}
	s := newSampler(weights)
	counts := make([]float64, len(weights))
	const n = 200_000
	r := rand.New(rand.NewPCG(1, 1))
	for range n {
		counts[s.pick(r)]++
	}
	for i, w := range weights {
		if got, want := counts[i]/n, w/10; math.Abs(got-want) > 0.01 {
			t.Errorf("index %d drawn %.3f of the time, want %.3f", i, got, want)
		}
	}
	if one := newSampler([]float64{2}); one.at(0) != 0 || one.at(0.999) != 0 {
		t.Error("a sampler of one")
	}
}

func BenchmarkNext(b *testing.B) {
	g := NewGenerator(Options{Seed: 1, APIs: 100, Applications: 1000})
	var e apilens.Event
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		g.Next(&e, t0.Add(time.Duration(i)*time.Millisecond))
	}
}
