// Package query answers the analytics questions of the REST API (summary,
// time series, top-N) from the stored rollups, never from raw events.
package query

import (
	"time"

	"github.com/apilens/apilens"
)

// span is a run of buckets of one granularity, [from, to).
type span struct {
	gran     apilens.Granularity
	from, to time.Time
}

// plan covers [from, to) with the fewest buckets: the coarsest bucket that
// starts at the cursor and fits in the range, at each step. Ranges resolve
// to whole minutes (from rounds down, to rounds up). Where the finest
// granularity that fits has been purged (minutes after 72 hours by
// default), the edge widens to the finest bucket still kept; Plan reports
// the range it actually covers.
func plan(f apilens.Family, from, to, now time.Time, r apilens.Retention) (spans []span, covered [2]time.Time) {
	from = apilens.Minute.Truncate(from)
	if t := apilens.Minute.Truncate(to); t.Before(to) {
		to = t.Add(time.Minute)
	}
	covered[0] = from
	c := from
	for c.Before(to) {
		g, start := pick(f, c, to, now, r)
		if start.Before(covered[0]) {
			covered[0] = start
		}
		next := g.Next(start)
		if n := len(spans); n > 0 && spans[n-1].gran == g && spans[n-1].to.Equal(start) {
			spans[n-1].to = next
		} else {
			spans = append(spans, span{g, start, next})
		}
		c = next
	}
	covered[1] = c
	if len(spans) == 0 {
		covered[1] = to
	}
	return spans, covered
}

// coarseSettled is how long after a day, month or year bucket ends its
// rows are trusted: the coarse tier writes them up to a flush interval (or
// a backlog) later, and until then the bucket is read from hour rows.
const coarseSettled = time.Hour

// pick chooses the granularity and bucket start for cursor c.
func pick(f apilens.Family, c, to, now time.Time, r apilens.Retention) (apilens.Granularity, time.Time) {
	for i := len(apilens.Granularities) - 1; i >= 0; i-- {
		g := apilens.Granularities[i]
		settled := g <= apilens.Hour || !g.Next(c).After(now.Add(-coarseSettled))
		if g.Aligned(c) && !g.Next(c).After(to) && settled && f.Keeps(g, c, now, r) {
			return g, c
		}
	}
	// Nothing fits exactly: widen to the finest granularity still kept.
	for _, g := range apilens.Granularities {
		b := g.Truncate(c)
		if f.Keeps(g, b, now, r) {
			return g, b
		}
	}
	return apilens.Year, apilens.Year.Truncate(c)
}

// autoGranularity picks the coarsest granularity that still gives at least
// minPoints points over [from, to) and whose rows family f keeps for the
// whole range; failing that, the finest kept one.
func autoGranularity(f apilens.Family, from, to, now time.Time, r apilens.Retention) apilens.Granularity {
	const minPoints = 20
	finest := apilens.Year
	for i := len(apilens.Granularities) - 1; i >= 0; i-- {
		g := apilens.Granularities[i]
		if !f.Keeps(g, g.Truncate(from), now, r) {
			continue
		}
		finest = g
		if points(g, from, to) >= minPoints {
			return g
		}
	}
	return finest
}

// points counts the buckets of g that overlap [from, to).
func points(g apilens.Granularity, from, to time.Time) int {
	n := 0
	for b := g.Truncate(from); b.Before(to); b = g.Next(b) {
		n++
		if n > maxPoints {
			break
		}
	}
	return n
}

// maxPoints bounds a time series.
const maxPoints = 5000
