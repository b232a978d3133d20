// Package storetest is the conformance suite of apilens.Store: every
// backend runs RunAll against fresh stores of its own, so the backends
// agree on the behavior the rest of apilens relies on.
//
// Beyond what the interface comments say, the suite pins down:
//   - dimension values are compared byte for byte (case-sensitive), any
//     length up to the 1 KB apilens.Event.Normalize allows, any UTF-8;
//   - rows repeated within one flush add up like rows of two flushes;
//   - a flush with an empty stream name, or a row of an unknown family or
//     granularity, a bucket not aligned to its granularity, or a value in a
//     dimension past its family's, fails with EINVALID and changes nothing;
//   - queries with an unknown family or granularity, or a filter on a
//     dimension the family does not have, fail with EINVALID;
//   - Purge returns the rows it deleted from rollups, raw batches and
//     idempotency keys together, and zero cut-off times delete nothing;
//   - PutUser on an existing name keeps the user's tokens; PutToken for a
//     user that does not exist fails with ENOTFOUND.
//
// Times go through the suite at microsecond precision, the finest that
// every supported database keeps.
package storetest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/sketch"
)

// RunAll runs the conformance suite, one subtest per behavior. open returns
// a new, empty store for the subtest it is given; RunAll closes it when the
// subtest ends.
func RunAll(t *testing.T, open func(t *testing.T) apilens.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s apilens.Store)
	}{
		{"Ping", testPing},
		{"RoundTripEveryFamilyAndGranularity", testRoundTrip},
		{"AdditiveUpsert", testAdditiveUpsert},
		{"DimensionCase", testDimensionCase},
		{"LongAndUnicodeDimensions", testLongAndUnicodeDims},
		{"FilterEachDimension", testFilterEachDim},
		{"BucketRangeHalfOpen", testBucketRange},
		{"QueryCallbackError", testQueryCallbackError},
		{"InvalidQuery", testInvalidQuery},
		{"StreamOffsets", testStreamOffsets},
		{"IdempotencyKeys", testIdempotencyKeys},
		{"RawBatchOverlap", testRawBatches},
		{"Purge", testPurge},
		{"FlushAtomicity", testFlushAtomicity},
		{"InvalidFlush", testInvalidFlush},
		{"Users", testUsers},
		{"Tokens", testTokens},
		{"ConcurrentQueryDuringFlush", testConcurrentQueries},
		{"LogsSeq", testLogsSeq},
		{"LogsIdempotencyKey", testLogsKey},
		{"LogsPaging", testLogsPaging},
		{"LogContext", testLogContext},
		{"CountLogs", testCountLogs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

// base is a minute-aligned instant that is not aligned to an hour or day.
var base = time.Date(2025, 3, 14, 15, 9, 0, 0, time.UTC)

// row returns a row of family f at granularity g in the bucket holding at,
// with the given dimension values and one request.
func row(f apilens.Family, g apilens.Granularity, at time.Time, dims ...string) apilens.RollupRow {
	r := apilens.RollupRow{Family: f, Gran: g, Bucket: g.Truncate(at).Unix()}
	copy(r.Dims[:], dims)
	r.Requests = 1
	return r
}

// measures returns measures whose every counter differs from the others,
// so that a backend that mixes up two columns fails.
func measures(seed int64) apilens.Measures {
	m := apilens.Measures{}
	for i, c := range counterPtrs(&m) {
		*c = seed*1000 + int64(i) + 1
	}
	return m
}

func counterPtrs(m *apilens.Measures) []*int64 {
	return []*int64{
		&m.Requests, &m.Successful, &m.Faults, &m.Throttled,
		&m.Status2xx, &m.Status3xx, &m.Status4xx, &m.Status5xx,
		&m.FaultAuth, &m.FaultTarget, &m.FaultOther, &m.CacheHits,
		&m.Responses, &m.ResponseLatencySum, &m.BackendLatencySum,
		&m.RequestMediationLatencySum, &m.ResponseMediationLatencySum,
	}
}

// sk returns the encoding of a sketch of vals.
func sk(vals ...float64) []byte {
	s := sketch.New()
	for _, v := range vals {
		s.Add(v)
	}
	return s.Encode()
}

func apply(t *testing.T, s apilens.Store, f *apilens.Flush) {
	t.Helper()
	if f.Stream == "" {
		f.Stream = "events"
	}
	if err := s.ApplyFlush(t.Context(), f); err != nil {
		t.Fatalf("ApplyFlush: %v", err)
	}
}

// query returns copies of the rows q selects, sorted by bucket and
// dimension values.
func query(t *testing.T, s apilens.Store, q apilens.RollupQuery) []apilens.RollupRow {
	t.Helper()
	var rows []apilens.RollupRow
	err := s.QueryRollups(t.Context(), q, func(r *apilens.RollupRow) error {
		c := *r
		c.ResponseSketch = bytes.Clone(r.ResponseSketch)
		c.BackendSketch = bytes.Clone(r.BackendSketch)
		rows = append(rows, c)
		return nil
	})
	if err != nil {
		t.Fatalf("QueryRollups(%+v): %v", q, err)
	}
	slices.SortFunc(rows, func(a, b apilens.RollupRow) int {
		return cmp.Or(cmp.Compare(a.Bucket, b.Bucket), slices.Compare(a.Dims[:], b.Dims[:]))
	})
	return rows
}

// all selects every row of f at g.
func all(f apilens.Family, g apilens.Granularity) apilens.RollupQuery {
	return apilens.RollupQuery{Family: f, Gran: g, From: math.MinInt64, To: math.MaxInt64}
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := apilens.ErrorCode(err); got != code {
		t.Errorf("%s: error %v has code %q, want %q", what, err, got, code)
	}
}

func testPing(t *testing.T, s apilens.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testRoundTrip(t *testing.T, s apilens.Store) {
	var want []apilens.RollupRow
	seed := int64(1)
	for _, spec := range apilens.Families {
		for _, g := range apilens.Granularities {
			r := apilens.RollupRow{Family: spec.Family, Gran: g, Bucket: g.Truncate(base).Unix()}
			for i := range spec.Dims {
				r.Dims[i] = fmt.Sprintf("%s-%s-%d", spec.Name, g, i)
			}
			r.Measures = measures(seed)
			if spec.Latency {
				r.ResponseSketch = sk(float64(seed), 2*float64(seed))
				r.BackendSketch = sk(float64(seed) / 2)
			}
			seed++
			want = append(want, r)
		}
	}
	apply(t, s, &apilens.Flush{Offset: 1, Rows: want})
	for _, w := range want {
		got := query(t, s, all(w.Family, w.Gran))
		if len(got) != 1 {
			t.Errorf("%s/%s: got %d rows, want 1", w.Family, w.Gran, len(got))
			continue
		}
		if !rowsEqual(got[0], w) {
			t.Errorf("%s/%s: got\n%+v\nwant\n%+v", w.Family, w.Gran, got[0], w)
		}
	}
}

func rowsEqual(a, b apilens.RollupRow) bool {
	return a.Family == b.Family && a.Gran == b.Gran && a.Bucket == b.Bucket && a.Dims == b.Dims &&
		slices.EqualFunc(counterPtrs(&a.Measures), counterPtrs(&b.Measures), func(x, y *int64) bool { return *x == *y }) &&
		bytes.Equal(a.ResponseSketch, b.ResponseSketch) && bytes.Equal(a.BackendSketch, b.BackendSketch)
}

// checkSketch fails unless enc decodes to a sketch of n values whose
// quantiles q are within the sketch's accuracy of want.
func checkSketch(t *testing.T, what string, enc []byte, n float64, q, want []float64) {
	t.Helper()
	s, err := sketch.Decode(enc)
	if err != nil {
		t.Errorf("%s: decode sketch: %v", what, err)
		return
	}
	if s.Count() != n {
		t.Errorf("%s: sketch count %v, want %v", what, s.Count(), n)
	}
	for i := range q {
		got := s.Quantile(q[i])
		if math.Abs(got-want[i]) > want[i]*sketch.RelativeAccuracy*1.0001 {
			t.Errorf("%s: quantile %v = %v, want %v ±1%%", what, q[i], got, want[i])
		}
	}
}

func testAdditiveUpsert(t *testing.T, s apilens.Store) {
	api := func(name string) apilens.RollupRow {
		return row(apilens.FamilyAPI, apilens.Minute, base, name, "v1", "t")
	}
	a1, b1, c1 := api("a"), api("b"), api("c")
	a1.Measures = measures(1)
	a1.ResponseSketch = sk(10, 20, 30)
	a1.BackendSketch = sk(5)
	b1.ResponseSketch = sk(7) // b: a sketch, then none
	apply(t, s, &apilens.Flush{Offset: 1, Rows: []apilens.RollupRow{a1, b1, c1}})

	a2, b2, c2 := api("a"), api("b"), api("c")
	a2.Measures = measures(2)
	a2.ResponseSketch = sk(1000, 2000)
	c2.BackendSketch = sk(9) // c: none, then a sketch
	// A key repeated within one flush adds up too.
	c3 := api("c")
	c3.BackendSketch = sk(90)
	apply(t, s, &apilens.Flush{Offset: 2, Rows: []apilens.RollupRow{a2, b2, c2, c3}})

	got := query(t, s, all(apilens.FamilyAPI, apilens.Minute))
	if len(got) != 3 {
		t.Fatalf("got %d rows, want 3: %+v", len(got), got)
	}
	wantA := measures(1)
	wantA.AddCounts(&a2.Measures)
	for i, c := range counterPtrs(&got[0].Measures) {
		if w := *counterPtrs(&wantA)[i]; *c != w {
			t.Errorf("row a: counter %d = %d, want %d", i, *c, w)
		}
	}
	checkSketch(t, "a response", got[0].ResponseSketch, 5, []float64{0, 0.5, 1}, []float64{10, 30, 2000})
	checkSketch(t, "a backend", got[0].BackendSketch, 1, []float64{1}, []float64{5})
	if got[1].Requests != 2 {
		t.Errorf("row b: requests %d, want 2", got[1].Requests)
	}
	checkSketch(t, "b response", got[1].ResponseSketch, 1, []float64{1}, []float64{7})
	if len(got[1].BackendSketch) != 0 {
		t.Errorf("row b: backend sketch %x, want none", got[1].BackendSketch)
	}
	if got[2].Requests != 3 {
		t.Errorf("row c: requests %d, want 3", got[2].Requests)
	}
	checkSketch(t, "c backend", got[2].BackendSketch, 2, []float64{0, 1}, []float64{9, 90})
}

func testDimensionCase(t *testing.T, s apilens.Store) {
	rows := []apilens.RollupRow{
		row(apilens.FamilyAPI, apilens.Hour, base, "Api", "v1", "t"),
		row(apilens.FamilyAPI, apilens.Hour, base, "API", "v1", "t"),
		row(apilens.FamilyAPI, apilens.Hour, base, "api", "v1", "t"),
		row(apilens.FamilyAPI, apilens.Hour, base, "API", "V1", "t"),
	}
	apply(t, s, &apilens.Flush{Offset: 1, Rows: rows})
	apply(t, s, &apilens.Flush{Offset: 2, Rows: rows[1:2]})
	got := query(t, s, all(apilens.FamilyAPI, apilens.Hour))
	if len(got) != 4 {
		t.Fatalf("got %d rows, want 4 (one per spelling): %+v", len(got), got)
	}
	q := all(apilens.FamilyAPI, apilens.Hour)
	q.Filter = map[int]string{0: "API", 1: "v1"}
	got = query(t, s, q)
	if len(got) != 1 || got[0].Dims[0] != "API" || got[0].Requests != 2 {
		t.Errorf("filter API/v1: got %+v, want the one API/v1 row with 2 requests", got)
	}
}

func testLongAndUnicodeDims(t *testing.T, s apilens.Store) {
	long := strings.Repeat("/orders/{id}/items", 60)[:1023]
	values := []string{
		long + "a",
		long + "b", // differs from the previous only in the last byte
		"日本語のAPI",
		"ünïcødé ✓ 😀",
		"",
		"with 'quotes' and \"double\" and ; -- and %_ wildcards",
	}
	var rows []apilens.RollupRow
	for _, v := range values {
		rows = append(rows, row(apilens.FamilyResource, apilens.Day, base, "api", "v1", v, "GET", "t"))
	}
	apply(t, s, &apilens.Flush{Offset: 1, Rows: rows})
	apply(t, s, &apilens.Flush{Offset: 2, Rows: rows})
	got := query(t, s, all(apilens.FamilyResource, apilens.Day))
	if len(got) != len(values) {
		t.Fatalf("got %d rows, want %d", len(got), len(values))
	}
	for _, v := range values {
		q := all(apilens.FamilyResource, apilens.Day)
		q.Filter = map[int]string{2: v}
		got := query(t, s, q)
		if len(got) != 1 || got[0].Dims[2] != v || got[0].Requests != 2 {
			t.Errorf("filter on %.20q…: got %d rows %+v, want one with the value and 2 requests", v, len(got), got)
		}
	}
	// The first dimension is the indexed one: long values there too.
	apply(t, s, &apilens.Flush{Offset: 3, Rows: []apilens.RollupRow{
		row(apilens.FamilyGeo, apilens.Month, base, long+"a", "c", "api", "t"),
		row(apilens.FamilyGeo, apilens.Month, base, long+"b", "c", "api", "t"),
	}})
	q := all(apilens.FamilyGeo, apilens.Month)
	q.Filter = map[int]string{0: long + "b"}
	if got := query(t, s, q); len(got) != 1 || got[0].Dims[0] != long+"b" {
		t.Errorf("filter on a long first dimension: got %d rows, want 1", len(got))
	}
}

func testFilterEachDim(t *testing.T, s apilens.Store) {
	for _, spec := range apilens.Families {
		n := len(spec.Dims)
		// Row n has every value v<i>; row j has w at position j instead.
		var rows []apilens.RollupRow
		for j := 0; j <= n; j++ {
			r := row(spec.Family, apilens.Minute, base)
			for i := range n {
				r.Dims[i] = fmt.Sprintf("v%d", i)
			}
			if j < n {
				r.Dims[j] = "w"
			}
			r.Requests = int64(j + 1)
			rows = append(rows, r)
		}
		apply(t, s, &apilens.Flush{Offset: 1, Rows: rows})
		for p := range n {
			q := all(spec.Family, apilens.Minute)
			q.Filter = map[int]string{p: "w"}
			if got := query(t, s, q); len(got) != 1 || got[0].Requests != int64(p+1) {
				t.Errorf("%s: filter dimension %d = w: got %+v, want row %d only", spec.Name, p, got, p)
			}
			q.Filter = map[int]string{p: fmt.Sprintf("v%d", p)}
			if got := query(t, s, q); len(got) != n {
				t.Errorf("%s: filter dimension %d = v%[2]d: got %d rows, want %d", spec.Name, p, len(got), n)
			}
		}
		// Every filter at once selects the row with no w.
		q := all(spec.Family, apilens.Minute)
		q.Filter = map[int]string{}
		for i := range n {
			q.Filter[i] = fmt.Sprintf("v%d", i)
		}
		if got := query(t, s, q); len(got) != 1 || got[0].Requests != int64(n+1) {
			t.Errorf("%s: filter on every dimension: got %+v, want row %d only", spec.Name, got, n)
		}
	}
}

func testBucketRange(t *testing.T, s apilens.Store) {
	var rows []apilens.RollupRow
	for i := -1; i <= 2; i++ {
		rows = append(rows, row(apilens.FamilyTotal, apilens.Minute, base.Add(time.Duration(i)*time.Minute), "t"))
	}
	rows = append(rows, row(apilens.FamilyTotal, apilens.Hour, base, "t"), row(apilens.FamilyAPI, apilens.Minute, base, "a"))
	apply(t, s, &apilens.Flush{Offset: 1, Rows: rows})

	f := func(from, to time.Time, want ...time.Time) {
		t.Helper()
		got := query(t, s, apilens.RollupQuery{Family: apilens.FamilyTotal, Gran: apilens.Minute, From: from.Unix(), To: to.Unix()})
		var gotB []time.Time
		for _, r := range got {
			gotB = append(gotB, time.Unix(r.Bucket, 0).UTC())
		}
		if !slices.EqualFunc(gotB, want, time.Time.Equal) {
			t.Errorf("[%v, %v): got buckets %v, want %v", from, to, gotB, want)
		}
	}
	m := time.Minute
	f(base, base.Add(2*m), base, base.Add(m))
	f(base.Add(-m), base.Add(3*m), base.Add(-m), base, base.Add(m), base.Add(2*m))
	f(base.Add(time.Second), base.Add(2*m+time.Second), base.Add(m), base.Add(2*m))
	f(base, base)
	f(base.Add(m), base)
	f(base.Add(3*m), base.Add(10*m))
}

func testQueryCallbackError(t *testing.T, s apilens.Store) {
	apply(t, s, &apilens.Flush{
		Offset: 1,
		Rows: []apilens.RollupRow{
			row(apilens.FamilyTotal, apilens.Minute, base, "t1"),
			row(apilens.FamilyTotal, apilens.Minute, base, "t2"),
		},
		Raw: []apilens.RawBatch{{MinTime: base, MaxTime: base, Count: 1, Data: []byte("x")}, {MinTime: base, MaxTime: base, Count: 1, Data: []byte("y")}},
	})
	stop := errors.New("stop")
	calls := 0
	err := s.QueryRollups(t.Context(), all(apilens.FamilyTotal, apilens.Minute), func(*apilens.RollupRow) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("QueryRollups: err %v after %d calls, want the callback's error after 1", err, calls)
	}
	calls = 0
	err = s.RawBatches(t.Context(), base, base.Add(time.Minute), func(*apilens.RawBatch) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("RawBatches: err %v after %d calls, want the callback's error after 1", err, calls)
	}
}

func testInvalidQuery(t *testing.T, s apilens.Store) {
	nop := func(*apilens.RollupRow) error { return nil }
	for _, q := range []apilens.RollupQuery{
		{Family: 0, Gran: apilens.Minute, To: 1},
		{Family: apilens.Family(len(apilens.Families) + 1), Gran: apilens.Minute, To: 1},
		{Family: apilens.FamilyTotal, Gran: 0, To: 1},
		{Family: apilens.FamilyTotal, Gran: apilens.Year + 1, To: 1},
		{Family: apilens.FamilyTotal, Gran: apilens.Minute, To: 1, Filter: map[int]string{1: "x"}},
		{Family: apilens.FamilyFault, Gran: apilens.Minute, To: 1, Filter: map[int]string{apilens.MaxDims: "x"}},
		{Family: apilens.FamilyFault, Gran: apilens.Minute, To: 1, Filter: map[int]string{-1: "x"}},
	} {
		wantCode(t, fmt.Sprintf("QueryRollups(%+v)", q), s.QueryRollups(t.Context(), q, nop), apilens.EINVALID)
	}
}

func testStreamOffsets(t *testing.T, s apilens.Store) {
	ctx := t.Context()
	f := func(stream string, want int64) {
		t.Helper()
		got, err := s.StreamOffset(ctx, stream)
		if err != nil || got != want {
			t.Errorf("StreamOffset(%q) = %d, %v; want %d", stream, got, err, want)
		}
	}
	f("events", 0)
	apply(t, s, &apilens.Flush{Stream: "events", Offset: 100})
	apply(t, s, &apilens.Flush{Stream: "logs", Offset: 7})
	f("events", 100)
	f("logs", 7)
	apply(t, s, &apilens.Flush{Stream: "events", Offset: 1 << 40})
	f("events", 1<<40)
	f("logs", 7)
	f("Events", 0)
	f("", 0)
}

func testIdempotencyKeys(t *testing.T, s apilens.Store) {
	ctx := t.Context()
	k := func(key string, at time.Duration) apilens.IdempotencyKey {
		return apilens.IdempotencyKey{Key: key, Seen: base.Add(at)}
	}
	apply(t, s, &apilens.Flush{Offset: 1, Keys: []apilens.IdempotencyKey{
		k("alice\x1fbatch-1", 0), k("alice\x1fBatch-1", time.Minute), k("bob\x1fbatch-1", 2*time.Minute+250*time.Microsecond),
	}})
	// A retry of a key already stored is not an error and keeps one key.
	apply(t, s, &apilens.Flush{Offset: 2, Keys: []apilens.IdempotencyKey{k("alice\x1fbatch-1", 30*time.Second), k("bob\x1fbatch-2", 3*time.Minute)}})

	f := func(since time.Time, want ...apilens.IdempotencyKey) {
		t.Helper()
		got, err := s.IdempotencyKeys(ctx, since)
		if err != nil {
			t.Fatalf("IdempotencyKeys(%v): %v", since, err)
		}
		slices.SortFunc(got, func(a, b apilens.IdempotencyKey) int { return strings.Compare(a.Key, b.Key) })
		slices.SortFunc(want, func(a, b apilens.IdempotencyKey) int { return strings.Compare(a.Key, b.Key) })
		if !slices.EqualFunc(got, want, func(a, b apilens.IdempotencyKey) bool { return a.Key == b.Key && a.Seen.Equal(b.Seen) }) {
			t.Errorf("IdempotencyKeys(%v):\n got %+q\nwant %+q", since, got, want)
		}
	}
	f(base.Add(time.Minute), k("alice\x1fBatch-1", time.Minute), k("bob\x1fbatch-1", 2*time.Minute+250*time.Microsecond), k("bob\x1fbatch-2", 3*time.Minute))
	f(base.Add(2*time.Minute+250*time.Microsecond), k("bob\x1fbatch-1", 2*time.Minute+250*time.Microsecond), k("bob\x1fbatch-2", 3*time.Minute))
	f(base.Add(time.Hour))
	got, err := s.IdempotencyKeys(ctx, time.Time{})
	if err != nil || len(got) != 4 {
		t.Errorf("IdempotencyKeys(zero time) = %d keys, %v; want all 4", len(got), err)
	}
}

func testRawBatches(t *testing.T, s apilens.Store) {
	sec := time.Second
	a := apilens.RawBatch{MinTime: base, MaxTime: base.Add(10 * sec), Count: 3, Data: []byte("batch a")}
	b := apilens.RawBatch{MinTime: base.Add(30 * sec), MaxTime: base.Add(60*sec + 500*time.Microsecond), Count: 2, Data: []byte("batch b")}
	c := apilens.RawBatch{MinTime: base.Add(90 * sec), MaxTime: base.Add(90 * sec), Count: 1, Data: []byte{0, 1, 2, 0xff}}
	apply(t, s, &apilens.Flush{Offset: 1, Raw: []apilens.RawBatch{a, b}})
	apply(t, s, &apilens.Flush{Offset: 2, Raw: []apilens.RawBatch{c}})

	ids := map[int64]bool{}
	f := func(from, to time.Duration, want ...apilens.RawBatch) {
		t.Helper()
		var got []apilens.RawBatch
		err := s.RawBatches(t.Context(), base.Add(from), base.Add(to), func(r *apilens.RawBatch) error {
			got = append(got, *r)
			return nil
		})
		if err != nil {
			t.Fatalf("RawBatches: %v", err)
		}
		slices.SortFunc(got, func(x, y apilens.RawBatch) int { return x.MinTime.Compare(y.MinTime) })
		same := func(x, y apilens.RawBatch) bool {
			return x.MinTime.Equal(y.MinTime) && x.MaxTime.Equal(y.MaxTime) && x.Count == y.Count && bytes.Equal(x.Data, y.Data)
		}
		if !slices.EqualFunc(got, want, same) {
			t.Errorf("RawBatches(+%v, +%v): got %+v, want %+v", from, to, got, want)
		}
		for _, r := range got {
			if r.ID == 0 {
				t.Errorf("batch %q has ID 0", r.Data)
			}
			ids[r.ID] = true
		}
	}
	f(0, 60*sec, a, b)
	f(10*sec, 30*sec, a)               // a's MaxTime is inside; b starts at the open end
	f(10*sec+time.Microsecond, 30*sec) // the gap between a and b
	f(60*sec+500*time.Microsecond, 90*sec, b)
	f(60*sec+501*time.Microsecond, 90*sec)
	f(90*sec, 90*sec+time.Microsecond, c)
	f(-time.Hour, time.Hour, a, b, c)
	f(5*sec, 5*sec)
	f(time.Hour, -time.Hour)
	if len(ids) != 3 {
		t.Errorf("got %d distinct IDs for 3 batches", len(ids))
	}
}

func testPurge(t *testing.T, s apilens.Store) {
	ctx := t.Context()
	r := apilens.Retention{
		apilens.Minute: 2 * time.Hour,
		apilens.Hour:   48 * time.Hour,
		apilens.Day:    0, // forever
		apilens.Month:  400 * 24 * time.Hour,
		// Year is absent: forever too.
	}
	// Buckets around each granularity's cut-off, and one far older.
	var rows []apilens.RollupRow
	for _, g := range apilens.Granularities {
		b := g.Truncate(base.Add(-r[g]))
		for range 4 {
			b = g.Truncate(b.Add(-time.Nanosecond))
		}
		for range 8 {
			for _, f := range []apilens.Family{apilens.FamilyTotal, apilens.FamilyDevice} {
				rows = append(rows, row(f, g, b, "t"))
			}
			b = g.Next(b)
		}
		rows = append(rows, row(apilens.FamilyAPI, g, base.AddDate(-30, 0, 0), "a"))
	}
	raw := []apilens.RawBatch{
		{MinTime: base.Add(-time.Hour), MaxTime: base.Add(-time.Minute - time.Microsecond), Data: []byte("old")},
		{MinTime: base.Add(-time.Hour), MaxTime: base.Add(-time.Minute), Data: []byte("at the cut-off")},
		{MinTime: base.Add(-time.Minute), MaxTime: base, Data: []byte("new")},
	}
	keys := []apilens.IdempotencyKey{
		{Key: "old", Seen: base.Add(-time.Hour - time.Microsecond)},
		{Key: "at", Seen: base.Add(-time.Hour)},
		{Key: "new", Seen: base},
	}
	apply(t, s, &apilens.Flush{Offset: 1, Rows: rows, Raw: raw, Keys: keys})

	type key struct {
		Family apilens.Family
		Gran   apilens.Granularity
		Bucket int64
		Dims   [apilens.MaxDims]string
	}
	stored := func() map[key]bool {
		m := map[key]bool{}
		for _, spec := range apilens.Families {
			for _, g := range apilens.Granularities {
				for _, x := range query(t, s, all(spec.Family, g)) {
					m[key{x.Family, x.Gran, x.Bucket, x.Dims}] = true
				}
			}
		}
		return m
	}
	purge := func(now, rawBefore, keysBefore time.Time, wantRaw, wantKeys []string) {
		t.Helper()
		before := stored()
		var want []key
		for x := range before {
			if r.Keeps(x.Gran, time.Unix(x.Bucket, 0).UTC(), now) {
				want = append(want, x)
			}
		}
		var rawBefore0 []apilens.RawBatch
		s.RawBatches(ctx, time.Unix(0, 0), base.Add(time.Hour), func(b *apilens.RawBatch) error {
			rawBefore0 = append(rawBefore0, *b)
			return nil
		})
		keysBefore0, _ := s.IdempotencyKeys(ctx, time.Time{})
		wantDeleted := int64(len(before)-len(want)) + int64(len(rawBefore0)-len(wantRaw)) + int64(len(keysBefore0)-len(wantKeys))

		n, err := s.Purge(ctx, now, r, rawBefore, keysBefore)
		if err != nil {
			t.Fatalf("Purge(%v): %v", now, err)
		}
		after := stored()
		if len(after) != len(want) {
			t.Errorf("Purge(%v): %d rollup rows left, want %d", now, len(after), len(want))
		}
		for _, x := range want {
			if !after[x] {
				t.Errorf("Purge(%v): %s row of %v was deleted, want kept", now, x.Gran, time.Unix(x.Bucket, 0).UTC())
			}
		}
		var gotRaw []string
		s.RawBatches(ctx, time.Unix(0, 0), base.Add(time.Hour), func(b *apilens.RawBatch) error {
			gotRaw = append(gotRaw, string(b.Data))
			return nil
		})
		slices.Sort(gotRaw)
		slices.Sort(wantRaw)
		if !slices.Equal(gotRaw, wantRaw) {
			t.Errorf("Purge(%v): raw batches left %q, want %q", now, gotRaw, wantRaw)
		}
		var gotKeys []string
		ks, _ := s.IdempotencyKeys(ctx, time.Time{})
		for _, k := range ks {
			gotKeys = append(gotKeys, k.Key)
		}
		slices.Sort(gotKeys)
		slices.Sort(wantKeys)
		if !slices.Equal(gotKeys, wantKeys) {
			t.Errorf("Purge(%v): keys left %q, want %q", now, gotKeys, wantKeys)
		}
		if n != wantDeleted {
			t.Errorf("Purge(%v) = %d, want %d deleted", now, n, wantDeleted)
		}
	}
	// Cut-offs on bucket boundaries (base - 2h is a minute and an hour
	// boundary), then between them; zero raw and key cut-offs keep all.
	purge(base, base.Add(-time.Minute), base.Add(-time.Hour), []string{"at the cut-off", "new"}, []string{"at", "new"})
	purge(base.Add(90*time.Second), time.Time{}, time.Time{}, []string{"at the cut-off", "new"}, []string{"at", "new"})
	purge(base.Add(90*time.Second), base.Add(time.Hour), base.Add(time.Hour), nil, nil)

	// The rows retention keeps forever are all still there.
	for _, g := range []apilens.Granularity{apilens.Day, apilens.Year} {
		if got := query(t, s, all(apilens.FamilyAPI, g)); len(got) != 1 {
			t.Errorf("%s row 30 years old: %d rows left, want 1 (retention 0 keeps forever)", g, len(got))
		}
	}
}

func testFlushAtomicity(t *testing.T, s apilens.Store) {
	ctx := t.Context()
	x := row(apilens.FamilyAPI, apilens.Minute, base, "x", "v1", "t")
	apply(t, s, &apilens.Flush{Stream: "events", Offset: 10, Rows: []apilens.RollupRow{x},
		Keys: []apilens.IdempotencyKey{{Key: "k0", Seen: base}}})

	check := func(what string) {
		t.Helper()
		if off, err := s.StreamOffset(ctx, "events"); err != nil || off != 10 {
			t.Errorf("%s: offset %d, %v; want 10", what, off, err)
		}
		for _, g := range []apilens.Granularity{apilens.Minute, apilens.Hour} {
			got := query(t, s, all(apilens.FamilyAPI, g))
			if g == apilens.Minute && (len(got) != 1 || got[0].Requests != 1) {
				t.Errorf("%s: minute rows %+v, want only x with 1 request", what, got)
			}
			if g == apilens.Hour && len(got) != 0 {
				t.Errorf("%s: %d hour rows, want none", what, len(got))
			}
		}
		if ks, err := s.IdempotencyKeys(ctx, time.Time{}); err != nil || len(ks) != 1 {
			t.Errorf("%s: keys %v, %v; want only k0", what, ks, err)
		}
		n := 0
		s.RawBatches(ctx, base.Add(-time.Hour), base.Add(time.Hour), func(*apilens.RawBatch) error { n++; return nil })
		if n != 0 {
			t.Errorf("%s: %d raw batches, want none", what, n)
		}
	}

	// Many good rows, then a bad one at the very end: whatever the store
	// wrote before it finds the bad row must go.
	bad := &apilens.Flush{Stream: "events", Offset: 20,
		Keys: []apilens.IdempotencyKey{{Key: "k1", Seen: base}},
		Raw:  []apilens.RawBatch{{MinTime: base, MaxTime: base, Count: 1, Data: []byte("raw")}},
	}
	bad.Rows = append(bad.Rows, x)
	for i := range 500 {
		bad.Rows = append(bad.Rows, row(apilens.FamilyAPI, apilens.Hour, base, fmt.Sprintf("api%d", i), "v1", "t"))
	}
	bad.Rows = append(bad.Rows, row(0, apilens.Minute, base, "x"))
	err := s.ApplyFlush(ctx, bad)
	if err == nil {
		t.Fatal("ApplyFlush with a row of family 0 succeeded")
	}
	wantCode(t, "row of family 0", err, apilens.EINVALID)
	check("after a flush with a bad last row")

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	bad.Rows = bad.Rows[:len(bad.Rows)-1]
	if err := s.ApplyFlush(canceled, bad); err == nil {
		t.Fatal("ApplyFlush with a canceled context succeeded")
	}
	check("after a flush with a canceled context")
}

func testInvalidFlush(t *testing.T, s apilens.Store) {
	good := row(apilens.FamilyAPI, apilens.Minute, base, "x", "v1", "t")
	extraDim := row(apilens.FamilyTotal, apilens.Minute, base, "t")
	extraDim.Dims[1] = "not a dimension of total"
	for _, tc := range []struct {
		name string
		f    apilens.Flush
	}{
		{"no stream", apilens.Flush{Offset: 1, Rows: []apilens.RollupRow{good}}},
		{"unknown family", apilens.Flush{Stream: "events", Rows: []apilens.RollupRow{good, row(apilens.Family(len(apilens.Families)+1), apilens.Minute, base, "x")}}},
		{"unknown granularity", apilens.Flush{Stream: "events", Rows: []apilens.RollupRow{good, {Family: apilens.FamilyTotal, Gran: apilens.Year + 1}}}},
		{"unaligned bucket", apilens.Flush{Stream: "events", Rows: []apilens.RollupRow{good, {Family: apilens.FamilyTotal, Gran: apilens.Hour, Bucket: base.Unix()}}}},
		{"value past the family's dimensions", apilens.Flush{Stream: "events", Rows: []apilens.RollupRow{good, extraDim}}},
	} {
		err := s.ApplyFlush(t.Context(), &tc.f)
		if err == nil {
			t.Errorf("%s: ApplyFlush succeeded", tc.name)
			continue
		}
		wantCode(t, tc.name, err, apilens.EINVALID)
	}
	if got := query(t, s, all(apilens.FamilyAPI, apilens.Minute)); len(got) != 0 {
		t.Errorf("after failed flushes: %d rows stored, want none", len(got))
	}
}

func testUsers(t *testing.T, s apilens.Store) {
	ctx := t.Context()
	created := base.Add(123456 * time.Microsecond)
	alice := &apilens.User{Name: "alice", PasswordHash: "$2a$10$alice", Roles: []string{apilens.RoleAdmin, apilens.ScopeAPIAnalytics}, Created: created}
	Alice := &apilens.User{Name: "Alice", PasswordHash: "$2a$10$Alice", Roles: []string{apilens.RolePublisher}, Tenant: "carbon.super", Created: created}
	bob := &apilens.User{Name: "bob", PasswordHash: "$2a$10$bob"}
	for _, u := range []*apilens.User{alice, Alice, bob} {
		if err := s.PutUser(ctx, u); err != nil {
			t.Fatalf("PutUser(%q): %v", u.Name, err)
		}
	}
	same := func(a, b *apilens.User) bool {
		return a.Name == b.Name && a.PasswordHash == b.PasswordHash && slices.Equal(a.Roles, b.Roles) &&
			a.Tenant == b.Tenant && a.Created.Equal(b.Created)
	}
	for _, want := range []*apilens.User{alice, Alice} {
		got, err := s.User(ctx, want.Name)
		if err != nil {
			t.Fatalf("User(%q): %v", want.Name, err)
		}
		if !same(got, want) {
			t.Errorf("User(%q) = %+v, want %+v", want.Name, got, want)
		}
	}
	gotBob, err := s.User(ctx, "bob")
	if err != nil {
		t.Fatalf("User(bob): %v", err)
	}
	if len(gotBob.Roles) != 0 || gotBob.Created.IsZero() || time.Since(gotBob.Created) > time.Hour {
		t.Errorf("User(bob) = %+v, want no roles and a creation time of now", gotBob)
	}

	_, err = s.User(ctx, "ALICE")
	wantCode(t, "User(ALICE)", err, apilens.ENOTFOUND)

	// Replace alice: new fields, same tokens.
	if err := s.PutToken(ctx, &apilens.APIToken{Hash: "h-alice", User: "alice", Name: "ci", Created: created}); err != nil {
		t.Fatalf("PutToken: %v", err)
	}
	alice2 := &apilens.User{Name: "alice", PasswordHash: "$2a$10$new", Roles: []string{apilens.ScopeMonitoring}, Tenant: "t1", Created: created}
	if err := s.PutUser(ctx, alice2); err != nil {
		t.Fatalf("PutUser(alice again): %v", err)
	}
	if got, err := s.User(ctx, "alice"); err != nil || !same(got, alice2) {
		t.Errorf("User(alice) after replace = %+v, %v; want %+v", got, err, alice2)
	}
	if _, err := s.Token(ctx, "h-alice"); err != nil {
		t.Errorf("Token of alice after PutUser replaced her: %v", err)
	}

	us, err := s.Users(ctx)
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	var names []string
	for _, u := range us {
		names = append(names, u.Name)
	}
	slices.Sort(names)
	if want := []string{"Alice", "alice", "bob"}; !slices.Equal(names, want) {
		t.Errorf("Users = %q, want %q", names, want)
	}

	if err := s.DeleteUser(ctx, "alice"); err != nil {
		t.Fatalf("DeleteUser(alice): %v", err)
	}
	_, err = s.User(ctx, "alice")
	wantCode(t, "User after DeleteUser", err, apilens.ENOTFOUND)
	wantCode(t, "DeleteUser twice", s.DeleteUser(ctx, "alice"), apilens.ENOTFOUND)
	wantCode(t, "DeleteUser(nobody)", s.DeleteUser(ctx, "nobody"), apilens.ENOTFOUND)
	if _, err := s.User(ctx, "Alice"); err != nil {
		t.Errorf("User(Alice) after deleting alice: %v", err)
	}
}

func testTokens(t *testing.T, s apilens.Store) {
	ctx := t.Context()
	for _, name := range []string{"alice", "bob"} {
		if err := s.PutUser(ctx, &apilens.User{Name: name, PasswordHash: "x"}); err != nil {
			t.Fatalf("PutUser: %v", err)
		}
	}
	created := base.Add(time.Microsecond)
	tokens := []*apilens.APIToken{
		{Hash: "aa01", User: "alice", Name: "ci", Created: created},
		{Hash: "AA01", User: "alice", Name: "laptop", Created: created},
		{Hash: "bb01", User: "bob", Name: "publisher", Created: created},
	}
	for _, tok := range tokens {
		if err := s.PutToken(ctx, tok); err != nil {
			t.Fatalf("PutToken(%q): %v", tok.Hash, err)
		}
	}
	for _, want := range tokens {
		got, err := s.Token(ctx, want.Hash)
		if err != nil {
			t.Fatalf("Token(%q): %v", want.Hash, err)
		}
		if got.Hash != want.Hash || got.User != want.User || got.Name != want.Name || !got.Created.Equal(want.Created) {
			t.Errorf("Token(%q) = %+v, want %+v", want.Hash, got, want)
		}
	}
	_, err := s.Token(ctx, "cc01")
	wantCode(t, "Token(unknown)", err, apilens.ENOTFOUND)
	wantCode(t, "PutToken for an unknown user", s.PutToken(ctx, &apilens.APIToken{Hash: "dd01", User: "nobody", Created: created}), apilens.ENOTFOUND)
	if _, err := s.Token(ctx, "dd01"); apilens.ErrorCode(err) != apilens.ENOTFOUND {
		t.Errorf("Token of an unknown user was stored (err %v)", err)
	}

	if err := s.DeleteUser(ctx, "alice"); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	for _, h := range []string{"aa01", "AA01"} {
		_, err := s.Token(ctx, h)
		wantCode(t, "Token of a deleted user", err, apilens.ENOTFOUND)
	}
	if _, err := s.Token(ctx, "bb01"); err != nil {
		t.Errorf("Token of bob after deleting alice: %v", err)
	}
}

// testConcurrentQueries checks that queries running while flushes commit
// see each flush whole or not at all, and never fail.
func testConcurrentQueries(t *testing.T, s apilens.Store) {
	const keys, flushes, readers = 200, 25, 2
	rows := make([]apilens.RollupRow, keys)
	for i := range rows {
		rows[i] = row(apilens.FamilyAPI, apilens.Minute, base, fmt.Sprintf("api%03d", i), "v1", "t")
		rows[i].ResponseSketch = sk(float64(i))
	}
	ctx := t.Context()
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			last := int64(0)
			for queries := 0; ; queries++ {
				select {
				case <-done:
					if queries == 0 {
						t.Error("reader made no query")
					}
					return
				default:
				}
				n, first, total := 0, int64(-1), int64(0)
				err := s.QueryRollups(ctx, all(apilens.FamilyAPI, apilens.Minute), func(r *apilens.RollupRow) error {
					n++
					if first < 0 {
						first = r.Requests
					}
					if r.Requests != first {
						return fmt.Errorf("row %s has %d requests, row before %d: a flush seen in part", r.Dims[0], r.Requests, first)
					}
					total += r.Requests
					return nil
				})
				if err != nil {
					t.Errorf("QueryRollups during flushes: %v", err)
					return
				}
				if n != 0 && n != keys {
					t.Errorf("query saw %d rows, want 0 or %d", n, keys)
					return
				}
				if total < last {
					t.Errorf("query saw %d requests after %d", total, last)
					return
				}
				last = total
			}
		})
	}
	for i := range flushes {
		if err := s.ApplyFlush(ctx, &apilens.Flush{Stream: "events", Offset: int64(i + 1), Rows: rows}); err != nil {
			t.Errorf("ApplyFlush %d: %v", i, err)
			break
		}
	}
	close(done)
	wg.Wait()
	got := query(t, s, all(apilens.FamilyAPI, apilens.Minute))
	if len(got) != keys || got[0].Requests != flushes || got[keys-1].Requests != flushes {
		t.Errorf("after %d flushes: %d rows, first with %d requests", flushes, len(got), got[0].Requests)
	}
}
