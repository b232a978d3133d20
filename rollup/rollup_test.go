package rollup

import (
	"cmp"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/enrich"
	"github.com/apilens/apilens/simulate"
	"github.com/apilens/apilens/sketch"
)

func event(rng *rand.Rand, ts time.Time) apilens.Event {
	e := apilens.Event{
		RequestTimestamp:       ts,
		APIName:                fmt.Sprintf("api%d", rng.IntN(4)),
		APIVersion:             "1.0.0",
		APICreatorTenantDomain: []string{"carbon.super", "t1.com"}[rng.IntN(2)],
		APIResourceTemplate:    []string{"/a", "/b/{id}"}[rng.IntN(2)],
		APIMethod:              []string{"GET", "POST"}[rng.IntN(2)],
		ApplicationName:        fmt.Sprintf("app%d", rng.IntN(5)),
		UserName:               fmt.Sprintf("u%d", rng.IntN(30)),
		ProxyResponseCode:      []int{200, 200, 200, 404, 503}[rng.IntN(5)],
		ResponseLatency:        rng.Int64N(2000),
		BackendLatency:         rng.Int64N(1500),
		EventType:              apilens.EventResponse,
	}
	e.APIContext, e.APICreator = "/"+e.APIName+"/1.0.0", "admin"
	if e.APIName == "api0" && rng.IntN(3) == 0 { // an API whose creator changed: two api rows, one resource row
		e.APICreator = "alice"
	}
	if rng.IntN(6) == 0 {
		e.EventType, e.ErrorType, e.ErrorMessage, e.ProxyResponseCode = apilens.EventFault, apilens.FaultThrottled, "API_LEVEL_LIMIT_EXCEEDED", 429
	}
	e.Normalize()
	return e
}

// TestTiersEqualBruteForce aggregates events through the fine tier, carries
// its hour rows into the coarse tier, and checks every stored row of the
// total, api, resource, application and user families against a direct
// count (an API whose creator changed has two api rows), including
// events older than the hour retention, which count only in coarse rows.
func TestTiersEqualBruteForce(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	var events []apilens.Event
	for i := 0; i < 20000; i++ {
		ago := time.Duration(rng.Int64N(int64(200 * 24 * time.Hour)))
		if i%2 == 0 {
			ago = time.Duration(rng.Int64N(int64(100 * time.Hour)))
		}
		events = append(events, event(rng, now.Add(-ago)))
	}
	r := apilens.DefaultRetention()
	lim := NewLimiter(nil, nil, nil)
	fine := New(Options{Grans: []apilens.Granularity{apilens.Minute, apilens.Hour}, Carry: true, Limiter: lim})
	coarse := New(Options{Grans: []apilens.Granularity{apilens.Day, apilens.Month, apilens.Year}, Limiter: lim})
	var stored []apilens.RollupRow
	for part := 0; part < 4; part++ { // several fine flushes feed one coarse flush
		for i := part; i < len(events); i += 4 {
			fine.Add(&events[i])
		}
		rows, carry := fine.Drain(now)
		distinctRows(t, rows)
		stored = append(stored, rows...)
		if err := coarse.AddRows(carry); err != nil {
			t.Fatal(err)
		}
	}
	rows, _ := coarse.Drain(now)
	distinctRows(t, rows)
	stored = append(stored, rows...)

	type cell struct {
		f      apilens.Family
		g      apilens.Granularity
		bucket int64
		key    string
	}
	// Flushes carry deltas: the rows of one key add up, as a store adds them.
	got := map[cell]*apilens.RollupRow{}
	for _, row := range stored {
		c := cell{row.Family, row.Gran, row.Bucket, fmt.Sprint(row.Dims)}
		if !r.Keeps(row.Gran, time.Unix(row.Bucket, 0), now) {
			t.Fatalf("row past retention emitted: %s %v", row.Gran, time.Unix(row.Bucket, 0).UTC())
		}
		sum := got[c]
		if sum == nil {
			sum = &apilens.RollupRow{}
			got[c] = sum
		}
		sum.AddCounts(&row.Measures)
		merged, err := sketch.MergeEncoded(sum.ResponseSketch, row.ResponseSketch)
		if err != nil {
			t.Fatal(err)
		}
		sum.ResponseSketch = merged
	}
	want := map[cell]*apilens.Measures{}
	lat := map[cell][]float64{}
	for _, e := range events {
		for _, g := range apilens.Granularities {
			b := g.Truncate(e.RequestTimestamp)
			for _, fk := range []struct {
				f    apilens.Family
				dims [apilens.MaxDims]string
			}{
				{apilens.FamilyTotal, [apilens.MaxDims]string{e.Tenant()}},
				{apilens.FamilyApplication, [apilens.MaxDims]string{e.ApplicationName, e.ApplicationOwner, e.ApplicationID, e.Tenant()}},
				{apilens.FamilyUser, [apilens.MaxDims]string{e.ApplicationName, e.UserName, e.Tenant()}},
				{apilens.FamilyAPI, [apilens.MaxDims]string{e.APIName, e.APIVersion, e.Tenant(), e.APIContext, e.APICreator}},
				{apilens.FamilyResource, [apilens.MaxDims]string{e.APIName, e.APIVersion, e.APIResourceTemplate, e.APIMethod, e.Tenant()}},
			} {
				if !fk.f.Keeps(g, b, now, r) {
					continue
				}
				c := cell{fk.f, g, b.Unix(), fmt.Sprint(fk.dims)}
				m := want[c]
				if m == nil {
					m = &apilens.Measures{}
					want[c] = m
				}
				var one apilens.Measures
				measure(&e, &one.Counts)
				m.AddCounts(&one)
				if !e.IsFault() {
					lat[c] = append(lat[c], float64(e.ResponseLatency))
				}
			}
		}
	}
	for c, m := range want {
		row, ok := got[c]
		if !ok {
			t.Fatalf("missing row %+v", c)
		}
		if row.Requests != m.Requests || row.Successful != m.Successful || row.Throttled != m.Throttled ||
			row.Status5xx != m.Status5xx || row.ResponseLatencySum != m.ResponseLatencySum {
			t.Fatalf("%+v: got %+v, want %+v", c, row.Measures, *m)
		}
		if c.f.Spec().Latency && len(lat[c]) > 0 {
			s, err := sketch.Decode(row.ResponseSketch)
			if err != nil || s.Count() != float64(len(lat[c])) {
				t.Fatalf("%+v: sketch count %v, want %d (%v)", c, s.Count(), len(lat[c]), err)
			}
		}
	}
	// Nothing but the checked families' rows may be missing from want.
	for c := range got {
		if c.f == apilens.FamilyTotal || c.f == apilens.FamilyApplication || c.f == apilens.FamilyUser ||
			c.f == apilens.FamilyAPI || c.f == apilens.FamilyResource {
			if _, ok := want[c]; !ok {
				t.Fatalf("unexpected row %+v", c)
			}
		}
	}
}

// distinctRows fails unless each row of one flush has a key of its own: a
// store upserts a flush's rows in one statement, and PostgreSQL refuses to
// update a row twice in one.
func distinctRows(t *testing.T, rows []apilens.RollupRow) {
	t.Helper()
	type rowKey struct {
		f      apilens.Family
		g      apilens.Granularity
		bucket int64
		dims   [apilens.MaxDims]string
	}
	seen := map[rowKey]bool{}
	for _, r := range rows {
		k := rowKey{r.Family, r.Gran, r.Bucket, r.Dims}
		if seen[k] {
			t.Fatalf("two rows of %s %s %d %q in one flush", r.Family, r.Gran, r.Bucket, r.Dims)
		}
		seen[k] = true
	}
}

// TestParallelEqualsSequential counts the same events one by one and in
// batches on a parallel Aggregator, with drains between, and checks that
// both store the same rows, limits included.
func TestParallelEqualsSequential(t *testing.T) {
	g := simulate.NewGenerator(simulate.Options{Seed: 3, APIs: 30, Applications: 200})
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	events := make([]apilens.Event, 30_000)
	for i := range events {
		g.Next(&events[i], t0.Add(time.Duration(i)*10*time.Millisecond))
		events[i].Normalize()
	}
	newAgg := func(parallel bool) *Aggregator {
		caps := func(dim string) int { return map[string]int{apilens.DimApplication: 100}[dim] + 10 }
		return New(Options{Grans: []apilens.Granularity{apilens.Minute, apilens.Hour}, Carry: true, Cap: caps, Parallel: parallel})
	}
	seq, par := newAgg(false), newAgg(true)
	defer par.Close()
	var want, got []apilens.RollupRow
	for start, size := 0, 1; start < len(events); start, size = start+size, size*2+1 {
		part := events[start:min(start+size, len(events))]
		for i := range part {
			seq.Add(&part[i])
		}
		par.AddBatch(part)
		if size > 500 {
			rows, _ := seq.Drain(t0)
			want = append(want, rows...)
			rows, _ = par.Drain(t0)
			got = append(got, rows...)
		}
	}
	if seq.Len() != par.Len() {
		t.Errorf("%d entries left, parallel %d", seq.Len(), par.Len())
	}
	rows, _ := seq.Drain(t0)
	want = append(want, rows...)
	rows, _ = par.Drain(t0)
	got = append(got, rows...)
	sortRows := func(rows []apilens.RollupRow) {
		slices.SortFunc(rows, func(a, b apilens.RollupRow) int {
			if c := cmp.Or(cmp.Compare(a.Family, b.Family), cmp.Compare(a.Gran, b.Gran), cmp.Compare(a.Bucket, b.Bucket),
				slices.Compare(a.Dims[:], b.Dims[:])); c != 0 {
				return c
			}
			return cmp.Compare(fmt.Sprint(a), fmt.Sprint(b)) // the same entry, drained twice
		})
	}
	sortRows(want)
	sortRows(got)
	if len(want) < 1000 || len(got) != len(want) {
		t.Fatalf("%d rows, parallel %d", len(want), len(got))
	}
	folded := 0
	for i := range want {
		if !reflect.DeepEqual(want[i], got[i]) {
			t.Fatalf("row %d differs:\n%+v\n%+v", i, want[i], got[i])
		}
		if slices.Contains(want[i].Dims[:], apilens.Other) {
			folded++
		}
	}
	if folded == 0 {
		t.Error("no value folded into OTHER: the caps were not exercised")
	}
}

func TestLimiterFoldsPastCap(t *testing.T) {
	folded := 0
	l := NewLimiter(func(dim string) int { return 2 }, func(string) { folded++ }, nil)
	for _, v := range []string{"a", "b", "a", "c", "d", "b"} {
		l.Value("t", apilens.DimAPI, v)
	}
	if got := l.Value("t", apilens.DimAPI, "c"); got != apilens.Other {
		t.Fatalf("third value = %q, want OTHER", got)
	}
	if got := l.Value("t2", apilens.DimAPI, "c"); got != "c" {
		t.Fatalf("another tenant's first value = %q, want c", got)
	}
	if folded != 3 {
		t.Fatalf("folded %d, want 3", folded)
	}
}

func BenchmarkAdd(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	now := time.Now()
	events := make([]apilens.Event, 4096)
	for i := range events {
		events[i] = event(rng, now.Add(-time.Duration(rng.IntN(300))*time.Second))
	}
	a := New(Options{Grans: []apilens.Granularity{apilens.Minute, apilens.Hour}})
	i := 0
	for b.Loop() {
		a.Add(&events[i%len(events)])
		i++
	}
}

// BenchmarkAddSimulated counts the simulator's traffic of 100 APIs × 1,000
// applications, enriched when the system's uap-core and tor-geoipdb are
// installed, into a fine-tier Aggregator drained every 50,000 entries as
// the pipeline does: batches of 200 on a parallel Aggregator, the
// consumer's per-event cost at a realistic size.
func BenchmarkAddSimulated(b *testing.B) {
	g := simulate.NewGenerator(simulate.Options{Seed: 7, APIs: 100, Applications: 1000})
	x, err := enrich.New(enrich.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Logf("without enrichment: %v", err)
	}
	const batch = 200
	events := make([]apilens.Event, 200_000)
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for i := range events {
		g.Next(&events[i], t0.Add(time.Duration(i)*time.Millisecond)) // 100,000 events/s of traffic
		events[i].Normalize()
		if x != nil {
			x.Enrich(&events[i])
		}
	}
	a := New(Options{Grans: []apilens.Granularity{apilens.Minute, apilens.Hour}, Carry: true, Parallel: true})
	defer a.Close()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		a.AddBatch(events[i : i+batch])
		if a.Len() >= 50_000 {
			a.Drain(t0)
		}
		i = (i + batch) % len(events)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/event")
}
