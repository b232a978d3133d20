package query

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apilens/apilens"
)

// TestPlanCoversRanges checks on random ranges that the spans are whole
// buckets, contiguous, kept by the family, and cover the asked range
// exactly where minutes are kept and widened to whole buckets where not.
func TestPlanCoversRanges(t *testing.T) {
	now := time.Date(2026, 11, 23, 14, 37, 12, 0, time.UTC)
	r := apilens.DefaultRetention()
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 5000; i++ {
		from := now.Add(-time.Duration(rng.Int64N(int64(800 * 24 * time.Hour))))
		to := from.Add(time.Duration(rng.Int64N(int64(400 * 24 * time.Hour))))
		f := []apilens.Family{apilens.FamilyTotal, apilens.FamilyGeo, apilens.FamilyUser}[i%3]
		spans, covered := plan(f, from, to, now, r)
		if covered[0].After(from) || covered[1].Before(to) {
			t.Fatalf("%s [%v, %v): covered [%v, %v) is narrower", f, from, to, covered[0], covered[1])
		}
		if len(spans) == 0 || !spans[0].from.Equal(covered[0]) || !spans[len(spans)-1].to.Equal(covered[1]) {
			t.Fatalf("%s [%v, %v): spans %v do not span covered %v", f, from, to, spans, covered)
		}
		for j, sp := range spans {
			if !sp.gran.Aligned(sp.from) || !sp.gran.Aligned(sp.to) {
				t.Fatalf("span %d %v not aligned to %s", j, sp, sp.gran)
			}
			if j > 0 && !spans[j-1].to.Equal(sp.from) {
				t.Fatalf("spans %d and %d are not contiguous: %v", j-1, j, spans)
			}
			for b := sp.from; b.Before(sp.to); b = sp.gran.Next(b) {
				if !f.Keeps(sp.gran, b, now, r) {
					t.Fatalf("span %v reads %s rows the %s family does not keep at %v", sp, sp.gran, f, b)
				}
			}
		}
		// Where minutes are kept for both edges, the range is exact to the minute.
		if f == apilens.FamilyTotal && r.Keeps(apilens.Minute, apilens.Minute.Truncate(from), now) {
			wantTo := apilens.Minute.Truncate(to)
			if wantTo.Before(to) {
				wantTo = wantTo.Add(time.Minute)
			}
			if !covered[0].Equal(apilens.Minute.Truncate(from)) || !covered[1].Equal(wantTo) {
				t.Fatalf("[%v, %v): covered %v, want exact minutes", from, to, covered)
			}
		}
	}
}

// TestPlanReadsRecentFromHours checks that a day, month or year bucket
// still open, or closed less than an hour ago (the coarse tier may not have
// written it yet), is read from hour rows, also when the range runs past
// now.
func TestPlanReadsRecentFromHours(t *testing.T) {
	for _, now := range []time.Time{
		time.Date(2026, 11, 23, 14, 37, 0, 0, time.UTC),
		time.Date(2026, 11, 23, 0, 20, 0, 0, time.UTC), // yesterday closed 20 minutes ago
		time.Date(2027, 1, 1, 0, 5, 0, 0, time.UTC),    // and last month and last year
	} {
		from, to := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		spans, _ := plan(apilens.FamilyTotal, from, to, now, apilens.DefaultRetention())
		for _, sp := range spans {
			if sp.gran > apilens.Hour && sp.to.After(now.Add(-coarseSettled)) {
				t.Errorf("now %v: span %v reads %s rows of a bucket not settled", now, sp, sp.gran)
			}
		}
	}
}

func TestPlanUsesFewBuckets(t *testing.T) {
	now := time.Date(2026, 11, 23, 14, 37, 0, 0, time.UTC)
	spans, _ := plan(apilens.FamilyTotal, now.AddDate(-1, 0, 0), now, now, apilens.DefaultRetention())
	n := 0
	for _, sp := range spans {
		n += points(sp.gran, sp.from, sp.to)
	}
	// A year ending now: months, days, hours and minutes at the edges.
	if n > 12+31+24+60+24+31 {
		t.Fatalf("a year reads %d buckets: %v", n, spans)
	}
}

func TestAutoGranularity(t *testing.T) {
	now := time.Date(2026, 11, 23, 14, 37, 0, 0, time.UTC)
	r := apilens.DefaultRetention()
	for _, c := range []struct {
		span time.Duration
		f    apilens.Family
		want apilens.Granularity
	}{
		{time.Hour, apilens.FamilyTotal, apilens.Minute},
		{24 * time.Hour, apilens.FamilyTotal, apilens.Hour},
		{7 * 24 * time.Hour, apilens.FamilyTotal, apilens.Hour}, // minutes are gone after 72 h
		{30 * 24 * time.Hour, apilens.FamilyTotal, apilens.Day},
		{365 * 24 * time.Hour, apilens.FamilyTotal, apilens.Day},
		{time.Hour, apilens.FamilyGeo, apilens.Hour},
		{30 * 24 * time.Hour, apilens.FamilyUser, apilens.Day},
	} {
		if got := autoGranularity(c.f, now.Add(-c.span), now, now, r); got != c.want {
			t.Errorf("%s over %v: %s, want %s", c.f, c.span, got, c.want)
		}
	}
}
