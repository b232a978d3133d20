package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/sketch"
)

// fake is a Backend over a map, as a database would hold the rows.
type fake struct {
	rows  map[Key]apilens.RollupRow
	locks int
}

func (f *fake) Lock(_ context.Context, keys []Key) (map[Key]*Stored, error) {
	f.locks++
	out := map[Key]*Stored{}
	for _, k := range keys {
		if r, ok := f.rows[k]; ok {
			out[k] = &Stored{Dims: r.Dims, ResponseSketch: r.ResponseSketch, BackendSketch: r.BackendSketch}
		}
	}
	return out, nil
}

func (f *fake) Write(_ context.Context, writes []Write) error {
	for _, w := range writes {
		r, ok := f.rows[w.Key]
		if ok != w.Update {
			return &apilens.Error{Code: apilens.EINTERNAL, Message: "update of a missing row, or insert over a stored one"}
		}
		if !ok {
			f.rows[w.Key] = *w.Row
			continue
		}
		r.AddCounts(&w.Row.Measures)
		if len(w.Row.ResponseSketch) > 0 {
			r.ResponseSketch = w.Row.ResponseSketch
		}
		f.rows[w.Key] = r
	}
	return nil
}

var base = time.Date(2025, 3, 14, 15, 9, 0, 0, time.UTC)

func row(name string, requests int64, latencies ...float64) apilens.RollupRow {
	r := apilens.RollupRow{Family: apilens.FamilyAPI, Gran: apilens.Minute, Bucket: base.Unix()}
	r.Dims[0] = name
	r.Requests = requests
	if len(latencies) > 0 {
		s := sketch.New()
		for _, v := range latencies {
			s.Add(v)
		}
		r.ResponseSketch = s.Encode()
	}
	return r
}

// TestPlanCollisions: with every tuple hashing alike, rows go to
// successive slots, later flushes find each at its slot across chunk
// boundaries, and the counts and sketches add up.
func TestPlanCollisions(t *testing.T) {
	keyHash = func(*[apilens.MaxDims]string) int64 { return 7 }
	defer func() { keyHash = KeyHash }()
	f := &fake{rows: map[Key]apilens.RollupRow{}}
	ctx := context.Background()
	n, err := Plan(ctx, []apilens.RollupRow{row("a", 1, 10), row("b", 1), row("a", 1, 20), row("c", 1)}, 2, f)
	if err != nil || n != 2 {
		t.Fatalf("first flush: %d collisions, %v; want 2 (b and c moved)", n, err)
	}
	n, err = Plan(ctx, []apilens.RollupRow{row("c", 5), row("d", 1), row("b", 3), row("a", 1, 30)}, 3, f)
	if err != nil || n != 3 {
		t.Fatalf("second flush: %d collisions, %v; want 3 (b, c, d)", n, err)
	}
	want := map[string]struct {
		slot     int64
		requests int64
		count    float64
	}{"a": {7, 3, 3}, "b": {8, 4, 0}, "c": {9, 6, 0}, "d": {10, 1, 0}}
	if len(f.rows) != len(want) {
		t.Fatalf("%d rows stored, want %d: %+v", len(f.rows), len(want), f.rows)
	}
	for k, r := range f.rows {
		w := want[r.Dims[0]]
		if k.Hash != w.slot || r.Requests != w.requests {
			t.Errorf("%s: slot %d with %d requests, want slot %d with %d", r.Dims[0], k.Hash, r.Requests, w.slot, w.requests)
		}
		if w.count > 0 {
			s, err := sketch.Decode(r.ResponseSketch)
			if err != nil || s.Count() != w.count {
				t.Errorf("%s: sketch of %v values (%v), want %v", r.Dims[0], s.Count(), err, w.count)
			}
		}
	}
}

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		"plain":          "plain",
		"日本語":            "日本語",
		"nul\x00byte":    "nul\uFFFDbyte",
		"bad\xff\xfeutf": "bad\uFFFDutf",
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}
