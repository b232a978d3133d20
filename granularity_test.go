package apilens

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestTruncate checks every granularity's bucket start against the
// calendar's, for times around the epoch and far from it, in zones other
// than UTC too.
func TestTruncate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	for range 100_000 {
		tm := time.Unix(rng.Int64N(1<<36)-1<<35, rng.Int64N(1e9)).In(zone)
		u := tm.UTC()
		for g, want := range map[Granularity]time.Time{
			Minute: time.Date(u.Year(), u.Month(), u.Day(), u.Hour(), u.Minute(), 0, 0, time.UTC),
			Hour:   time.Date(u.Year(), u.Month(), u.Day(), u.Hour(), 0, 0, 0, time.UTC),
			Day:    time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC),
			Month:  time.Date(u.Year(), u.Month(), 1, 0, 0, 0, 0, time.UTC),
			Year:   time.Date(u.Year(), 1, 1, 0, 0, 0, 0, time.UTC),
		} {
			if got := g.Truncate(tm); !got.Equal(want) || got.Location() != time.UTC {
				t.Fatalf("%s of %v: %v, want %v", g, tm, got, want)
			}
		}
	}
}
