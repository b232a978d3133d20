package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/store/internal/sqlstore"
)

// storedFamilies returns the distinct families in rollups, including any a
// newer binary wrote, with one primary-key seek each (PostgreSQL 15 has no
// skip scan of its own).
func (db *DB) storedFamilies(ctx context.Context) ([]int16, error) {
	rows, err := db.pool.Query(ctx, `WITH RECURSIVE f (family) AS (
			SELECT min(family) FROM rollups
			UNION ALL
			SELECT (SELECT min(family) FROM rollups WHERE family > f.family) FROM f WHERE f.family IS NOT NULL)
		SELECT family FROM f WHERE family IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("list rollup families: %w", err)
	}
	fams, err := pgx.CollectRows(rows, pgx.RowTo[int16])
	if err != nil {
		return nil, fmt.Errorf("list rollup families: %w", err)
	}
	return fams, nil
}

// purgeStep is one DELETE of a purge, which a dry run counts instead.
type purgeStep struct {
	name  string // as PurgeCounts reports it
	table string
	where string
	args  []any
}

func (db *DB) purgeSteps(ctx context.Context, now time.Time, r apilens.Retention, rawBefore, keysBefore time.Time) ([]purgeStep, error) {
	fams, err := db.storedFamilies(ctx)
	if err != nil {
		return nil, err
	}
	var steps []purgeStep
	for _, g := range apilens.Granularities {
		d := r[g]
		if d <= 0 {
			continue
		}
		steps = append(steps, purgeStep{"rollups/" + g.String(), "rollups", `family = ANY($1::smallint[]) AND gran = $2 AND bucket < $3`,
			[]any{fams, int16(g), sqlstore.PurgeBefore(g, d, now)}})
	}
	return append(steps,
		purgeStep{"raw_batches", "raw_batches", `max_time < $1`, []any{micros(rawBefore)}},
		purgeStep{"idempotency_keys", "idempotency_keys", `seen < $1`, []any{micros(keysBefore)}},
	), nil
}

// Purge deletes the rollup rows of each granularity that r does not keep
// at now (see apilens.Retention.Keeps), the raw batches whose MaxTime is
// before rawBefore and the idempotency keys seen before keysBefore, and
// returns how many rows it deleted from the three together. Each
// granularity and table is its own statement and transaction; a flush
// that holds a row about to go (a late event for an old bucket) makes the
// DELETE wait for it, never lose it.
func (db *DB) Purge(ctx context.Context, now time.Time, r apilens.Retention, rawBefore, keysBefore time.Time) (int64, error) {
	steps, err := db.purgeSteps(ctx, now, r, rawBefore, keysBefore)
	if err != nil {
		return 0, fmt.Errorf("purge: %w", err)
	}
	var total int64
	for _, s := range steps {
		tag, err := db.pool.Exec(ctx, `DELETE FROM `+s.table+` WHERE `+s.where, s.args...)
		if err != nil {
			return total, fmt.Errorf("purge %s: %w", s.name, err)
		}
		total += tag.RowsAffected()
	}
	return total, nil
}

// PurgeCounts returns how many rows Purge(now, r, rawBefore, keysBefore)
// and PurgeLogs(logsBefore) would delete, by table ("rollups/<granularity>",
// "raw_batches", "idempotency_keys", "log_records"); it deletes nothing.
func (db *DB) PurgeCounts(ctx context.Context, now time.Time, r apilens.Retention, rawBefore, keysBefore, logsBefore time.Time) (map[string]int64, error) {
	steps, err := db.purgeSteps(ctx, now, r, rawBefore, keysBefore)
	if err != nil {
		return nil, fmt.Errorf("count purge: %w", err)
	}
	steps = append(steps, purgeStep{"log_records", "log_records", `time < $1`, []any{micros(logsBefore)}})
	out := map[string]int64{}
	for _, s := range steps {
		var n int64
		if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM `+s.table+` WHERE `+s.where, s.args...).Scan(&n); err != nil {
			return nil, fmt.Errorf("count purge of %s: %w", s.name, err)
		}
		out[s.name] = n
	}
	return out, nil
}
