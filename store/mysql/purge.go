package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/store/internal/sqlstore"
)

// purgeChunk bounds one DELETE: InnoDB locks every row a statement
// deletes and keeps its undo until commit, so a large purge goes in many
// short statements that never hold the flushes up for long.
const purgeChunk = 10000

// storedFamilies returns the distinct families in rollups, including any a
// newer binary wrote, with one primary-key seek each.
func (db *DB) storedFamilies(ctx context.Context) ([]int64, error) {
	var fams []int64
	last := int64(-1 << 63)
	for {
		var f sql.NullInt64
		if err := db.sql.QueryRowContext(ctx, `SELECT min(family) FROM rollups WHERE family > ?`, last).Scan(&f); err != nil {
			return nil, fmt.Errorf("list rollup families: %w", err)
		}
		if !f.Valid {
			return fams, nil
		}
		fams = append(fams, f.Int64)
		last = f.Int64
	}
}

// purgeStep is one kind of row a purge deletes, which a dry run counts
// instead.
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
		before := sqlstore.PurgeBefore(g, d, now)
		// One step per family: the primary key leads with it.
		for _, f := range fams {
			steps = append(steps, purgeStep{"rollups/" + g.String(), "rollups", `family = ? AND gran = ? AND bucket < ?`, []any{f, int64(g), before}})
		}
	}
	return append(steps,
		purgeStep{"raw_batches", "raw_batches", `max_time < ?`, []any{micros(rawBefore)}},
		purgeStep{"idempotency_keys", "idempotency_keys", `seen < ?`, []any{micros(keysBefore)}},
	), nil
}

// deleteChunked deletes the rows of s, purgeChunk at a time.
func (db *DB) deleteChunked(ctx context.Context, s purgeStep) (int64, error) {
	var total int64
	for {
		res, err := db.sql.ExecContext(ctx, `DELETE FROM `+s.table+` WHERE `+s.where+` LIMIT ?`, append(s.args, purgeChunk)...)
		if err != nil {
			return total, fmt.Errorf("purge %s: %w", s.name, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("purge %s: %w", s.name, err)
		}
		total += n
		if n < purgeChunk {
			return total, nil
		}
	}
}

// Purge deletes the rollup rows of each granularity that r does not keep
// at now (see apilens.Retention.Keeps), the raw batches whose MaxTime is
// before rawBefore and the idempotency keys seen before keysBefore, and
// returns how many rows it deleted from the three together.
func (db *DB) Purge(ctx context.Context, now time.Time, r apilens.Retention, rawBefore, keysBefore time.Time) (int64, error) {
	steps, err := db.purgeSteps(ctx, now, r, rawBefore, keysBefore)
	if err != nil {
		return 0, fmt.Errorf("purge: %w", err)
	}
	var total int64
	for _, s := range steps {
		n, err := db.deleteChunked(ctx, s)
		total += n
		if err != nil {
			return total, err
		}
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
	steps = append(steps, purgeStep{"log_records", "log_records", `time < ?`, []any{micros(logsBefore)}})
	out := map[string]int64{}
	for _, s := range steps {
		var n int64
		if err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM `+s.table+` WHERE `+s.where, s.args...).Scan(&n); err != nil {
			return nil, fmt.Errorf("count purge of %s: %w", s.name, err)
		}
		out[s.name] += n
	}
	return out, nil
}

// PurgeLogs deletes the records older than before, a chunk at a time.
func (db *DB) PurgeLogs(ctx context.Context, before time.Time) (int64, error) {
	return db.deleteChunked(ctx, purgeStep{"log records", "log_records", `time < ?`, []any{micros(before)}})
}
