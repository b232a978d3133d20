package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/store/internal/sqlstore"
)

// rowChunk is how many rollup rows one lock-merge-write round covers: the
// arrays of a round travel in one statement each, so larger rounds mean
// fewer round trips, up to where the sorted key arrays stop fitting the
// planner's nested-loop estimates.
const rowChunk = 1000

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
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		// Flushes take turns: see package sqlstore. Every statement of a
		// flush looks rows up by primary key from a sorted array of keys,
		// for which a nested loop over the primary key is right at any
		// size; the planner, which cannot see how long the arrays are
		// and may have no statistics yet, would otherwise hash-join them
		// against a scan of the whole table.
		if _, err := tx.Exec(ctx, fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d);
			SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off`, int64(flushLock))); err != nil {
			return fmt.Errorf("wait for other flushes: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO stream_offsets (stream, "offset") VALUES ($1, $2)
			ON CONFLICT (stream) DO UPDATE SET "offset" = excluded."offset"`, f.Stream, f.Offset); err != nil {
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

func insertKeys(ctx context.Context, tx pgx.Tx, keys []apilens.IdempotencyKey) error {
	if len(keys) == 0 {
		return nil
	}
	shas := make([][]byte, len(keys))
	texts := make([]string, len(keys))
	seen := make([]int64, len(keys))
	for i, k := range keys {
		shas[i], texts[i], seen[i] = keySHA(k.Key), sqlstore.Text(k.Key), micros(k.Seen)
	}
	_, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (key_sha, key, seen)
		SELECT * FROM unnest($1::bytea[], $2::text[], $3::bigint[]) ON CONFLICT (key_sha) DO NOTHING`, shas, texts, seen)
	if err != nil {
		return fmt.Errorf("insert idempotency keys: %w", err)
	}
	return nil
}

// insertRaw inserts the batches in one round trip and returns their IDs.
func insertRaw(ctx context.Context, tx pgx.Tx, raw []apilens.RawBatch) ([]int64, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var b pgx.Batch
	for _, r := range raw {
		data := r.Data
		if data == nil {
			data = []byte{}
		}
		b.Queue(`INSERT INTO raw_batches (min_time, max_time, count, data) VALUES ($1, $2, $3, $4) RETURNING id`,
			micros(r.MinTime), micros(r.MaxTime), r.Count, data)
	}
	res := tx.SendBatch(ctx, &b)
	ids := make([]int64, len(raw))
	for i := range raw {
		if err := res.QueryRow().Scan(&ids[i]); err != nil {
			res.Close()
			return nil, fmt.Errorf("insert raw batch: %w", err)
		}
	}
	if err := res.Close(); err != nil {
		return nil, fmt.Errorf("insert raw batch: %w", err)
	}
	return ids, nil
}

// rollupWriter is sqlstore.Backend inside a flush's transaction.
type rollupWriter struct {
	tx pgx.Tx
}

// keyArrays returns the key columns of keys as arrays for unnest().
func keyArrays(keys []sqlstore.Key) (fams, grans []int16, buckets, hashes []int64) {
	for _, k := range keys {
		fams = append(fams, int16(k.Family))
		grans = append(grans, int16(k.Gran))
		buckets = append(buckets, k.Bucket)
		hashes = append(hashes, k.Hash)
	}
	return
}

var lockSQL = `SELECT r.family, r.gran, r.bucket, r.key_hash, ` + strings.Join(sqlstore.DimCols, ", ") + `, r.resp_sketch, r.backend_sketch
	FROM rollups r JOIN unnest($1::smallint[], $2::smallint[], $3::bigint[], $4::bigint[]) AS k (family, gran, bucket, key_hash)
	ON r.family = k.family AND r.gran = k.gran AND r.bucket = k.bucket AND r.key_hash = k.key_hash
	ORDER BY 1, 2, 3, 4 FOR UPDATE OF r`

// Lock reads and locks the stored rows of keys.
func (w *rollupWriter) Lock(ctx context.Context, keys []sqlstore.Key) (map[sqlstore.Key]*sqlstore.Stored, error) {
	out := map[sqlstore.Key]*sqlstore.Stored{}
	if len(keys) == 0 {
		return out, nil
	}
	fams, grans, buckets, hashes := keyArrays(keys)
	rows, err := w.tx.Query(ctx, lockSQL, fams, grans, buckets, hashes)
	if err != nil {
		return nil, fmt.Errorf("lock stored rows: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k sqlstore.Key
		var fam, gran int16
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

// updateSQL adds the counters of unnest()ed rows to the stored rows at
// their keys, and replaces the sketches the rows have (already merged
// with the stored ones).
var updateSQL = func() string {
	var b strings.Builder
	b.WriteString("UPDATE rollups r SET ")
	for i, c := range sqlstore.CounterCols {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s = r.%[1]s + u.%[1]s", c)
	}
	b.WriteString(", resp_sketch = coalesce(u.resp_sketch, r.resp_sketch), backend_sketch = coalesce(u.backend_sketch, r.backend_sketch)\nFROM unnest($1::smallint[], $2::smallint[], $3::bigint[], $4::bigint[]")
	for i := range sqlstore.CounterCols {
		fmt.Fprintf(&b, ", $%d::bigint[]", 5+i)
	}
	n := 5 + len(sqlstore.CounterCols)
	fmt.Fprintf(&b, ", $%d::bytea[], $%d::bytea[]) AS u (family, gran, bucket, key_hash, %s, resp_sketch, backend_sketch)\n", n, n+1, strings.Join(sqlstore.CounterCols, ", "))
	b.WriteString("WHERE r.family = u.family AND r.gran = u.gran AND r.bucket = u.bucket AND r.key_hash = u.key_hash")
	return b.String()
}()

var insertCols = slices.Concat([]string{"family", "gran", "bucket", "key_hash"}, sqlstore.DimCols, sqlstore.CounterCols, []string{"resp_sketch", "backend_sketch"})

// Write applies a chunk's updates with one UPDATE and its inserts with
// COPY.
func (w *rollupWriter) Write(ctx context.Context, writes []sqlstore.Write) error {
	var updates []sqlstore.Write
	var inserts [][]any
	for _, x := range writes {
		if x.Update {
			updates = append(updates, x)
			continue
		}
		r := x.Row
		v := make([]any, 0, len(insertCols))
		v = append(v, int16(r.Family), int16(r.Gran), r.Bucket, x.Key.Hash)
		for _, d := range r.Dims {
			v = append(v, d)
		}
		for _, c := range sqlstore.Counters(&r.Measures) {
			v = append(v, *c)
		}
		v = append(v, sqlstore.BlobOrNil(r.ResponseSketch), sqlstore.BlobOrNil(r.BackendSketch))
		inserts = append(inserts, v)
	}
	if len(updates) > 0 {
		keys := make([]sqlstore.Key, len(updates))
		counters := make([][]int64, len(sqlstore.CounterCols))
		resp := make([][]byte, len(updates))
		backend := make([][]byte, len(updates))
		for i, u := range updates {
			keys[i] = u.Key
			for j, c := range sqlstore.Counters(&u.Row.Measures) {
				counters[j] = append(counters[j], *c)
			}
			resp[i], backend[i] = sqlstore.BlobOrNil(u.Row.ResponseSketch), sqlstore.BlobOrNil(u.Row.BackendSketch)
		}
		fams, grans, buckets, hashes := keyArrays(keys)
		args := []any{fams, grans, buckets, hashes}
		for _, c := range counters {
			args = append(args, c)
		}
		args = append(args, resp, backend)
		tag, err := w.tx.Exec(ctx, updateSQL, args...)
		if err != nil {
			return fmt.Errorf("update %d rows: %w", len(updates), err)
		}
		if n := tag.RowsAffected(); n != int64(len(updates)) {
			// The rows were locked: only a bug gets here.
			return fmt.Errorf("update of %d locked rows changed %d", len(updates), n)
		}
	}
	if len(inserts) > 0 {
		n, err := w.tx.CopyFrom(ctx, pgx.Identifier{"rollups"}, insertCols, pgx.CopyFromRows(inserts))
		if err != nil {
			return fmt.Errorf("insert %d rows: %w", len(inserts), err)
		}
		if n != int64(len(inserts)) {
			return fmt.Errorf("insert of %d rows copied %d", len(inserts), n)
		}
	}
	return nil
}

// StreamOffset returns the offset the last flush of stream recorded, or 0.
func (db *DB) StreamOffset(ctx context.Context, stream string) (int64, error) {
	var off int64
	err := db.pool.QueryRow(ctx, `SELECT "offset" FROM stream_offsets WHERE stream = $1`, sqlstore.Text(stream)).Scan(&off)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read offset of stream %q: %w", stream, err)
	}
	return off, nil
}

// IdempotencyKeys returns the keys seen at or after since, oldest first.
func (db *DB) IdempotencyKeys(ctx context.Context, since time.Time) ([]apilens.IdempotencyKey, error) {
	rows, err := db.pool.Query(ctx, `SELECT key, seen FROM idempotency_keys WHERE seen >= $1 ORDER BY seen, key`, micros(since))
	if err != nil {
		return nil, fmt.Errorf("read idempotency keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (apilens.IdempotencyKey, error) {
		var k apilens.IdempotencyKey
		var seen int64
		err := row.Scan(&k.Key, &seen)
		k.Seen = fromMicros(seen)
		return k, err
	})
	if err != nil {
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
	b.WriteString("SELECT " + queryCols + " FROM rollups WHERE family = $1 AND gran = $2 AND bucket >= $3 AND bucket < $4")
	args := []any{int16(q.Family), int16(q.Gran), q.From, q.To}
	for _, p := range pos {
		args = append(args, sqlstore.Text(q.Filter[p]))
		if p == 0 {
			// The index holds a prefix of d0 (see the migration).
			fmt.Fprintf(&b, " AND left(d0, 200) = left($%d, 200)", len(args))
		}
		fmt.Fprintf(&b, " AND %s = $%d", sqlstore.DimCols[p], len(args))
	}
	rows, err := db.pool.Query(ctx, b.String(), args...)
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
	rows, err := db.pool.Query(ctx, `SELECT id, min_time, max_time, count, data FROM raw_batches
		WHERE min_time < $1 AND max_time >= $2 ORDER BY min_time, id`, micros(to), micros(from))
	if err != nil {
		return fmt.Errorf("read raw batches: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r apilens.RawBatch
		var minT, maxT int64
		var count int32
		if err := rows.Scan(&r.ID, &minT, &maxT, &count, &r.Data); err != nil {
			return fmt.Errorf("read raw batches: %w", err)
		}
		r.Count = int(count)
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
