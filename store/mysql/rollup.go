package mysql

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/store/internal/sqlstore"
)

// rowChunk is how many rollup rows one lock-merge-write round covers: a
// multi-row statement of 500 rows stays far below max_allowed_packet
// (dimension values are at most 1024 characters) while spreading the
// per-statement cost thin.
const rowChunk = 500

// micros is how times other than buckets are stored.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// keySHA is the idempotency_keys primary key of a key.
func keySHA(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// ApplyFlush applies f in one transaction: the stream offset, the
// idempotency keys (a key already stored keeps its first Seen), the raw
// batches (their IDs are set in f.Raw once committed), and the additive
// upsert of every rollup row. A flush without a stream name, or with a row
// of an unknown family or granularity, a bucket not aligned to its
// granularity, or a value in a dimension its family does not have, fails
// with EINVALID and changes nothing.
func (db *DB) ApplyFlush(ctx context.Context, f *apilens.Flush) (err error) {
	start := time.Now()
	defer func() {
		if err != nil {
			err = fmt.Errorf("apply flush of stream %q at offset %d: %w", f.Stream, f.Offset, err)
		}
	}()
	if err := sqlstore.ValidFlush(f); err != nil {
		return err
	}
	var ids []int64
	var collisions int
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		// Flushes take turns: see package sqlstore.
		if _, err := tx.ExecContext(ctx, `SELECT id FROM flush_lock WHERE id = 1 FOR UPDATE`); err != nil {
			return fmt.Errorf("wait for other flushes: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO stream_offsets (stream, `offset`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `offset` = VALUES(`offset`)",
			sqlstore.Text(f.Stream), f.Offset); err != nil {
			return fmt.Errorf("record offset: %w", err)
		}
		if err := insertKeys(ctx, tx, f.Keys); err != nil {
			return err
		}
		var err error
		if ids, err = insertRaw(ctx, tx, f.Raw); err != nil {
			return err
		}
		collisions, err = sqlstore.Plan(ctx, f.Rows, rowChunk, &rollupWriter{tx: tx})
		if err != nil {
			return fmt.Errorf("upsert rollups: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, id := range ids {
		f.Raw[i].ID = id
	}
	if collisions > 0 {
		db.logger.Warn("rollup key hash collisions", "stream", f.Stream, "offset", f.Offset, "collisions", collisions)
	}
	db.logger.Debug("applied flush", "stream", f.Stream, "offset", f.Offset,
		"rows", len(f.Rows), "raw", len(f.Raw), "keys", len(f.Keys), "took", time.Since(start))
	return nil
}

// tuples returns n comma-separated copies of tuple.
func tuples(n int, tuple string) string {
	return strings.TrimSuffix(strings.Repeat(tuple+", ", n), ", ")
}

func insertKeys(ctx context.Context, tx *sql.Tx, keys []apilens.IdempotencyKey) error {
	for chunk := range slices.Chunk(keys, 1000) {
		args := make([]any, 0, 3*len(chunk))
		for _, k := range chunk {
			args = append(args, keySHA(k.Key), sqlstore.Text(k.Key), micros(k.Seen))
		}
		// A key stored before keeps its first Seen; unlike INSERT IGNORE,
		// this turns no other error into a warning.
		_, err := tx.ExecContext(ctx, "INSERT INTO idempotency_keys (key_sha, `key`, seen) VALUES "+tuples(len(chunk), "(?, ?, ?)")+
			" ON DUPLICATE KEY UPDATE key_sha = key_sha", args...)
		if err != nil {
			return fmt.Errorf("insert idempotency keys: %w", err)
		}
	}
	return nil
}

// insertRaw inserts the batches, one statement each: a flush has few, and
// LastInsertId is then each batch's own ID whatever the server's
// auto-increment lock mode.
func insertRaw(ctx context.Context, tx *sql.Tx, raw []apilens.RawBatch) ([]int64, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(raw))
	for i, r := range raw {
		data := r.Data
		if data == nil {
			data = []byte{}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO raw_batches (min_time, max_time, count, data) VALUES (?, ?, ?, ?)`,
			micros(r.MinTime), micros(r.MaxTime), r.Count, data)
		if err != nil {
			return nil, fmt.Errorf("insert raw batch: %w", err)
		}
		if ids[i], err = res.LastInsertId(); err != nil {
			return nil, fmt.Errorf("insert raw batch: %w", err)
		}
	}
	return ids, nil
}

// rollupWriter is sqlstore.Backend inside a flush's transaction.
type rollupWriter struct {
	tx *sql.Tx
}

// Lock reads and locks the stored rows of keys.
func (w *rollupWriter) Lock(ctx context.Context, keys []sqlstore.Key) (map[sqlstore.Key]*sqlstore.Stored, error) {
	out := map[sqlstore.Key]*sqlstore.Stored{}
	if len(keys) == 0 {
		return out, nil
	}
	args := make([]any, 0, 4*len(keys))
	for _, k := range keys {
		args = append(args, int64(k.Family), int64(k.Gran), k.Bucket, k.Hash)
	}
	rows, err := w.tx.QueryContext(ctx, `SELECT family, gran, bucket, key_hash, `+strings.Join(sqlstore.DimCols, ", ")+`, resp_sketch, backend_sketch
		FROM rollups WHERE (family, gran, bucket, key_hash) IN (`+tuples(len(keys), "(?, ?, ?, ?)")+`)
		ORDER BY family, gran, bucket, key_hash FOR UPDATE`, args...)
	if err != nil {
		return nil, fmt.Errorf("lock stored rows: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k sqlstore.Key
		var fam, gran int64
		s := &sqlstore.Stored{}
		dest := []any{&fam, &gran, &k.Bucket, &k.Hash}
		for i := range s.Dims {
			dest = append(dest, &s.Dims[i])
		}
		dest = append(dest, &s.ResponseSketch, &s.BackendSketch)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("lock stored rows: %w", err)
		}
		k.Family, k.Gran = apilens.Family(fam), apilens.Granularity(gran)
		out[k] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lock stored rows: %w", err)
	}
	return out, nil
}

var upsertCols = slices.Concat([]string{"family", "gran", "bucket", "key_hash"}, sqlstore.DimCols, sqlstore.CounterCols, []string{"resp_sketch", "backend_sketch"})

// upsertHead and upsertTail frame the VALUES of a chunk: new rows are
// inserted, stored ones get the counters added and the sketches (already
// merged with the stored ones) replaced where the row has one.
var upsertHead, upsertTail, upsertTuple = func() (head, tail, tuple string) {
	var b strings.Builder
	b.WriteString(" ON DUPLICATE KEY UPDATE ")
	for i, c := range sqlstore.CounterCols {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s = %[1]s + VALUES(%[1]s)", c)
	}
	for _, c := range []string{"resp_sketch", "backend_sketch"} {
		fmt.Fprintf(&b, ", %s = COALESCE(VALUES(%[1]s), %[1]s)", c)
	}
	return "INSERT INTO rollups (" + strings.Join(upsertCols, ", ") + ") VALUES ",
		b.String(),
		"(" + strings.TrimSuffix(strings.Repeat("?, ", len(upsertCols)), ", ") + ")"
}()

// Write applies a chunk's writes with one multi-row upsert.
func (w *rollupWriter) Write(ctx context.Context, writes []sqlstore.Write) error {
	if len(writes) == 0 {
		return nil
	}
	args := make([]any, 0, len(upsertCols)*len(writes))
	for _, x := range writes {
		r := x.Row
		args = append(args, int64(r.Family), int64(r.Gran), r.Bucket, x.Key.Hash)
		for _, d := range r.Dims {
			args = append(args, d)
		}
		for _, c := range sqlstore.Counters(&r.Measures) {
			args = append(args, *c)
		}
		args = append(args, sqlstore.BlobOrNil(r.ResponseSketch), sqlstore.BlobOrNil(r.BackendSketch))
	}
	if _, err := w.tx.ExecContext(ctx, upsertHead+tuples(len(writes), upsertTuple)+upsertTail, args...); err != nil {
		return fmt.Errorf("upsert %d rows: %w", len(writes), err)
	}
	return nil
}

// StreamOffset returns the offset the last flush of stream recorded, or 0.
func (db *DB) StreamOffset(ctx context.Context, stream string) (int64, error) {
	var off int64
	err := db.sql.QueryRowContext(ctx, "SELECT `offset` FROM stream_offsets WHERE stream = ?", sqlstore.Text(stream)).Scan(&off)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read offset of stream %q: %w", stream, err)
	}
	return off, nil
}

// IdempotencyKeys returns the keys seen at or after since, oldest first.
func (db *DB) IdempotencyKeys(ctx context.Context, since time.Time) ([]apilens.IdempotencyKey, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT `key`, seen FROM idempotency_keys WHERE seen >= ? ORDER BY seen, `key`", micros(since))
	if err != nil {
		return nil, fmt.Errorf("read idempotency keys: %w", err)
	}
	defer rows.Close()
	var keys []apilens.IdempotencyKey
	for rows.Next() {
		var k apilens.IdempotencyKey
		var seen int64
		if err := rows.Scan(&k.Key, &seen); err != nil {
			return nil, fmt.Errorf("read idempotency keys: %w", err)
		}
		k.Seen = fromMicros(seen)
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read idempotency keys: %w", err)
	}
	return keys, nil
}

var queryCols = strings.Join(slices.Concat([]string{"bucket"}, sqlstore.DimCols, sqlstore.CounterCols, []string{"resp_sketch", "backend_sketch"}), ", ")

// QueryRollups calls fn for each row q selects. A filter on a dimension
// position the family does not have fails with EINVALID.
func (db *DB) QueryRollups(ctx context.Context, q apilens.RollupQuery, fn func(*apilens.RollupRow) error) error {
	pos, err := sqlstore.ValidQuery(q)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("SELECT " + queryCols + " FROM rollups WHERE family = ? AND gran = ? AND bucket >= ? AND bucket < ?")
	args := []any{int64(q.Family), int64(q.Gran), q.From, q.To}
	for _, p := range pos {
		b.WriteString(" AND " + sqlstore.DimCols[p] + " = ?")
		args = append(args, sqlstore.Text(q.Filter[p]))
	}
	rows, err := db.sql.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return fmt.Errorf("query %s rollups: %w", q.Family, err)
	}
	defer rows.Close()
	row := apilens.RollupRow{Family: q.Family, Gran: q.Gran}
	dest := make([]any, 0, 1+apilens.MaxDims+len(sqlstore.CounterCols)+2)
	dest = append(dest, &row.Bucket)
	for i := range row.Dims {
		dest = append(dest, &row.Dims[i])
	}
	for _, c := range sqlstore.Counters(&row.Measures) {
		dest = append(dest, c)
	}
	dest = append(dest, &row.ResponseSketch, &row.BackendSketch)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("query %s rollups: %w", q.Family, err)
		}
		if err := fn(&row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query %s rollups: %w", q.Family, err)
	}
	return nil
}

// RawBatches calls fn, in order of MinTime, for each raw batch whose
// [MinTime, MaxTime] overlaps [from, to). Each call gets a new batch.
func (db *DB) RawBatches(ctx context.Context, from, to time.Time, fn func(*apilens.RawBatch) error) error {
	if !from.Before(to) {
		return nil
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT id, min_time, max_time, count, data FROM raw_batches
		WHERE min_time < ? AND max_time >= ? ORDER BY min_time, id`, micros(to), micros(from))
	if err != nil {
		return fmt.Errorf("read raw batches: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r apilens.RawBatch
		var minT, maxT int64
		if err := rows.Scan(&r.ID, &minT, &maxT, &r.Count, &r.Data); err != nil {
			return fmt.Errorf("read raw batches: %w", err)
		}
		r.MinTime, r.MaxTime = fromMicros(minT), fromMicros(maxT)
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read raw batches: %w", err)
	}
	return nil
}
