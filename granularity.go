package apilens

import (
	"fmt"
	"time"
)

// Granularity is the width of a rollup bucket. Buckets are aligned in UTC.
type Granularity uint8

// The rollup granularities, finest first.
const (
	Minute Granularity = iota + 1
	Hour
	Day
	Month
	Year
)

// Granularities lists every rollup granularity, finest first.
var Granularities = []Granularity{Minute, Hour, Day, Month, Year}

var granNames = map[Granularity]string{Minute: "minute", Hour: "hour", Day: "day", Month: "month", Year: "year"}

func (g Granularity) String() string {
	if s, ok := granNames[g]; ok {
		return s
	}
	return fmt.Sprintf("granularity(%d)", uint8(g))
}

// ParseGranularity reads one of minute, hour, day, month, year.
func ParseGranularity(s string) (Granularity, error) {
	for g, name := range granNames {
		if name == s {
			return g, nil
		}
	}
	return 0, fmt.Errorf("unknown granularity %q (want minute, hour, day, month or year)", s)
}

// Truncate returns the start of the bucket of granularity g that holds t.
func (g Granularity) Truncate(t time.Time) time.Time {
	t = t.UTC()
	switch g {
	case Minute:
		return t.Truncate(time.Minute)
	case Hour:
		return t.Truncate(time.Hour)
	case Day:
		// Go's time has no leap seconds: a UTC day is 24 hours since the
		// zero time, which Truncate counts from. A quarter of the cost of
		// time.Date, and the consumer truncates every event to its day.
		return t.Truncate(24 * time.Hour)
	case Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	case Year:
		return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	}
	panic("apilens: bad granularity " + g.String())
}

// Next returns the start of the bucket after the one starting at t.
func (g Granularity) Next(t time.Time) time.Time {
	switch g {
	case Minute:
		return t.Add(time.Minute)
	case Hour:
		return t.Add(time.Hour)
	case Day:
		return t.AddDate(0, 0, 1)
	case Month:
		return t.AddDate(0, 1, 0)
	case Year:
		return t.AddDate(1, 0, 0)
	}
	panic("apilens: bad granularity " + g.String())
}

// Aligned reports whether t is the start of a bucket of granularity g.
func (g Granularity) Aligned(t time.Time) bool { return g.Truncate(t).Equal(t) }

// Retention is how long rows of each granularity are kept. A zero duration
// means forever.
type Retention map[Granularity]time.Duration

// DefaultRetention is REFERENCE §5: minutes 72 hours, hours 90 days, days a
// year, months 10 years, years forever.
func DefaultRetention() Retention {
	return Retention{
		Minute: 72 * time.Hour,
		Hour:   90 * 24 * time.Hour,
		Day:    366 * 24 * time.Hour,
		Month:  10 * 366 * 24 * time.Hour,
		Year:   0,
	}
}

// Keeps reports whether a bucket of granularity g starting at bucket is
// still within retention at now.
func (r Retention) Keeps(g Granularity, bucket, now time.Time) bool {
	d := r[g]
	return d == 0 || !g.Next(bucket).Before(now.Add(-d))
}
