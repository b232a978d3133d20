package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/apilens/apilens"
)

// PurgeCounts returns how many rows Purge(now, r, rawBefore, keysBefore)
// and PurgeLogs(logsBefore) would delete, by table ("rollups/<granularity>",
// "raw_batches", "idempotency_keys", "log_records"); it deletes nothing.
// It is `apilens purge --dry-run`.
func (db *DB) PurgeCounts(ctx context.Context, now time.Time, r apilens.Retention, rawBefore, keysBefore, logsBefore time.Time) (map[string]int64, error) {
	out := map[string]int64{}
	count := func(name, query string, args ...any) error {
		var n int64
		if err := db.reader.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
			return fmt.Errorf("count purge of %s: %w", name, err)
		}
		out[name] += n
		return nil
	}
	families, err := db.storedFamilies(ctx)
	if err != nil {
		return nil, err
	}
	for _, g := range apilens.Granularities {
		d := r[g]
		if d <= 0 {
			continue
		}
		// As Purge computes it.
		before := g.Truncate(now.Add(-d).Add(-time.Nanosecond)).Unix()
		for _, f := range families {
			if err := count("rollups/"+g.String(), `SELECT count(*) FROM rollups WHERE family = ? AND gran = ? AND bucket < ?`, f, int64(g), before); err != nil {
				return nil, err
			}
		}
	}
	for _, c := range []struct {
		name, query string
		before      time.Time
	}{
		{"raw_batches", `SELECT count(*) FROM raw_batches WHERE max_time < ?`, rawBefore},
		{"idempotency_keys", `SELECT count(*) FROM idempotency_keys WHERE seen < ?`, keysBefore},
		{"log_records", `SELECT count(*) FROM log_records WHERE time < ?`, logsBefore},
	} {
		if err := count(c.name, c.query, micros(c.before)); err != nil {
			return nil, err
		}
	}
	return out, nil
}
