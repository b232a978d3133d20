package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/sketch"
	"github.com/apilens/apilens/store/internal/sqlstore"
	"modernc.org/sqlite"
)

// mergeFunc is the SQL name of the sketch merge function.
const mergeFunc = "apilens_sketch_merge"

func init() {
	// Registered with the driver, so every connection of every DB has it.
	sqlite.MustRegisterDeterministicScalarFunction(mergeFunc, 2, mergeSketches)
}

// mergeSketches is apilens_sketch_merge(a, b): the encoded merge of two
// encoded sketches, either of which may be NULL or empty; NULL when both
// are.
func mergeSketches(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	var bs [2][]byte
	for i, a := range args {
		switch v := a.(type) {
		case nil:
		case []byte:
			bs[i] = v
		default:
			return nil, fmt.Errorf("%s: argument %d is %T, want a blob", mergeFunc, i+1, a)
		}
	}
	m, err := sketch.MergeEncoded(bs[0], bs[1])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", mergeFunc, err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// counterCols are the rollups columns of the Measures counters, in the
// order of counters.
var counterCols = []string{
	"requests", "successful", "faults", "throttled",
	"status_2xx", "status_3xx", "status_4xx", "status_5xx",
	"fault_auth", "fault_target", "fault_other", "cache_hits",
	"responses", "response_latency_sum", "backend_latency_sum",
	"req_mediation_latency_sum", "resp_mediation_latency_sum",
}

// counters returns pointers to the counters of m in counterCols order.
func counters(m *apilens.Measures) [17]*int64 {
	return [...]*int64{
		&m.Requests, &m.Successful, &m.Faults, &m.Throttled,
		&m.Status2xx, &m.Status3xx, &m.Status4xx, &m.Status5xx,
		&m.FaultAuth, &m.FaultTarget, &m.FaultOther, &m.CacheHits,
		&m.Responses, &m.ResponseLatencySum, &m.BackendLatencySum,
		&m.RequestMediationLatencySum, &m.ResponseMediationLatencySum,
	}
}

var dimCols = []string{"d0", "d1", "d2", "d3", "d4", "d5", "d6"}

// rowCols is the number of values bound per upserted row.
const rowCols = 4 + apilens.MaxDims + 17 + 2

// Rows and keys per multi-row INSERT: large enough that per-statement costs
// (and the statement journal, which copies each page a statement touches)
// are spread thin, below SQLite's bound of 32766 parameters. 256 rows
// measured faster than 64 and no slower than 1000.
const (
	rowChunk = 256
	keyChunk = 256
)

func upsertSQL(n int) string {
	var b strings.Builder
	cols := slices.Concat([]string{"family", "gran", "bucket", "key_hash"}, dimCols, counterCols, []string{"resp_sketch", "backend_sketch"})
	b.WriteString("INSERT INTO rollups (" + strings.Join(cols, ", ") + ") VALUES ")
	tuple := "(" + strings.Repeat("?, ", rowCols-1) + "?)"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	b.WriteString("\nON CONFLICT (family, gran, bucket, key_hash) DO UPDATE SET ")
	for i, c := range counterCols {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s = %[1]s + excluded.%[1]s", c)
	}
	for _, c := range []string{"resp_sketch", "backend_sketch"} {
		fmt.Fprintf(&b, ",\n%s = CASE WHEN excluded.%[1]s IS NULL THEN %[1]s ELSE %s(%[1]s, excluded.%[1]s) END", c, mergeFunc)
	}
	// A stored row with other values under the same hash is a collision:
	// leave it alone, and let resolveCollisions place the new row.
	b.WriteString("\nWHERE ")
	for i, c := range dimCols {
		if i > 0 {
			b.WriteString(" AND ")
		}
		fmt.Fprintf(&b, "rollups.%s = excluded.%[1]s", c)
	}
	return b.String()
}

func insertKeysSQL(n int) string {
	return "INSERT INTO idempotency_keys (key, seen) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?, ?), ", n), ", ") +
		" ON CONFLICT (key) DO NOTHING"
}

// statements are the writer's prepared statements.
type statements struct {
	upsertChunk, upsertOne, slot, insertKeys, insertRaw, putOffset *sql.Stmt
}

func prepare(ctx context.Context, db *sql.DB) (*statements, error) {
	s := &statements{}
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&s.upsertChunk, upsertSQL(rowChunk)},
		{&s.upsertOne, upsertSQL(1)},
		{&s.slot, `SELECT ` + strings.Join(dimCols, ", ") + ` FROM rollups WHERE family = ? AND gran = ? AND bucket = ? AND key_hash = ?`},
		{&s.insertKeys, insertKeysSQL(keyChunk)},
		{&s.insertRaw, `INSERT INTO raw_batches (min_time, max_time, count, data) VALUES (?, ?, ?, ?)`},
		{&s.putOffset, `INSERT INTO stream_offsets (stream, "offset") VALUES (?, ?) ON CONFLICT (stream) DO UPDATE SET "offset" = excluded."offset"`},
	} {
		st, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("prepare %.40q: %w", p.sql, err)
		}
		*p.stmt = st
	}
	return s, nil
}

func (s *statements) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.upsertChunk, s.upsertOne, s.slot, s.insertKeys, s.insertRaw, s.putOffset} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// micros is how times other than buckets are stored.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

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
	if f.Stream == "" {
		return apilens.Errorf(apilens.EINVALID, "flush has no stream name")
	}
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if _, err := tx.StmtContext(ctx, db.stmts.putOffset).ExecContext(ctx, f.Stream, f.Offset); err != nil {
		return fmt.Errorf("record offset: %w", err)
	}
	if err := db.insertKeys(ctx, tx, f.Keys); err != nil {
		return err
	}
	ids, err := db.insertRaw(ctx, tx, f.Raw)
	if err != nil {
		return err
	}
	collisions, err := db.upsertRows(ctx, tx, f.Rows)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for i, id := range ids {
		f.Raw[i].ID = id
	}
	db.logger.Debug("applied flush", "stream", f.Stream, "offset", f.Offset,
		"rows", len(f.Rows), "raw", len(f.Raw), "keys", len(f.Keys), "collisions", collisions, "took", time.Since(start))
	return nil
}

func (db *DB) insertKeys(ctx context.Context, tx *sql.Tx, keys []apilens.IdempotencyKey) error {
	args := make([]any, 0, 2*min(len(keys), keyChunk))
	for chunk := range slices.Chunk(keys, keyChunk) {
		args = args[:0]
		for _, k := range chunk {
			if k.Key == "" {
				return apilens.Errorf(apilens.EINVALID, "empty idempotency key")
			}
			args = append(args, k.Key, micros(k.Seen))
		}
		stmt := tx.StmtContext(ctx, db.stmts.insertKeys)
		if len(chunk) < keyChunk {
			var err error
			if stmt, err = tx.PrepareContext(ctx, insertKeysSQL(len(chunk))); err != nil {
				return fmt.Errorf("insert idempotency keys: %w", err)
			}
			defer stmt.Close()
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("insert idempotency keys: %w", err)
		}
	}
	return nil
}

func (db *DB) insertRaw(ctx context.Context, tx *sql.Tx, raw []apilens.RawBatch) ([]int64, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	stmt := tx.StmtContext(ctx, db.stmts.insertRaw)
	ids := make([]int64, len(raw))
	for i := range raw {
		r := &raw[i]
		if r.MaxTime.Before(r.MinTime) || r.Count < 0 {
			return nil, apilens.Errorf(apilens.EINVALID, "raw batch %d: bad time range [%v, %v] or count %d", i, r.MinTime, r.MaxTime, r.Count)
		}
		data := r.Data
		if data == nil {
			data = []byte{}
		}
		res, err := stmt.ExecContext(ctx, micros(r.MinTime), micros(r.MaxTime), r.Count, data)
		if err != nil {
			return nil, fmt.Errorf("insert raw batch: %w", err)
		}
		if ids[i], err = res.LastInsertId(); err != nil {
			return nil, fmt.Errorf("insert raw batch: %w", err)
		}
	}
	return ids, nil
}

// appendRowArgs appends the values bound for r under key_hash h.
func appendRowArgs(args []any, r *apilens.RollupRow, h int64) []any {
	args = append(args, int64(r.Family), int64(r.Gran), r.Bucket, h)
	for _, d := range r.Dims {
		args = append(args, d)
	}
	for _, c := range counters(&r.Measures) {
		args = append(args, *c)
	}
	return append(args, blobOrNil(r.ResponseSketch), blobOrNil(r.BackendSketch))
}

// blobOrNil binds an empty sketch as NULL, the one spelling of "none".
func blobOrNil(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// hashedRow is a row to upsert and its key_hash.
type hashedRow struct {
	r *apilens.RollupRow
	h int64
}

// upsertRows adds rows to the stored rollups and returns how many hash
// collisions it resolved. Rows go in primary-key order: neighbors in a
// statement then share B-tree pages, which SQLite writes (and journals
// for the statement) once instead of once per row.
func (db *DB) upsertRows(ctx context.Context, tx *sql.Tx, rows []apilens.RollupRow) (int, error) {
	sorted := make([]hashedRow, len(rows))
	for i := range rows {
		if err := sqlstore.ValidRow(&rows[i]); err != nil {
			return 0, err
		}
		sorted[i] = hashedRow{&rows[i], db.keyHash(&rows[i].Dims)}
	}
	slices.SortFunc(sorted, func(a, b hashedRow) int {
		return cmp.Or(cmp.Compare(a.r.Family, b.r.Family), cmp.Compare(a.r.Gran, b.r.Gran),
			cmp.Compare(a.r.Bucket, b.r.Bucket), cmp.Compare(a.h, b.h))
	})
	args := make([]any, 0, rowCols*min(len(rows), rowChunk))
	collisions := 0
	for chunk := range slices.Chunk(sorted, rowChunk) {
		args = args[:0]
		for _, x := range chunk {
			args = appendRowArgs(args, x.r, x.h)
		}
		stmt := tx.StmtContext(ctx, db.stmts.upsertChunk)
		if len(chunk) < rowChunk {
			var err error
			if stmt, err = tx.PrepareContext(ctx, upsertSQL(len(chunk))); err != nil {
				return 0, fmt.Errorf("upsert rollups: %w", err)
			}
			defer stmt.Close()
		}
		res, err := stmt.ExecContext(ctx, args...)
		if err != nil {
			return 0, fmt.Errorf("upsert rollups: %w", err)
		}
		// Every row inserts or updates one row, unless the upsert skipped
		// it for a collision.
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("upsert rollups: %w", err)
		}
		if n < int64(len(chunk)) {
			c, err := db.resolveCollisions(ctx, tx, chunk)
			if err != nil {
				return 0, fmt.Errorf("upsert rollups: %w", err)
			}
			collisions += c
		}
	}
	return collisions, nil
}

// resolveCollisions finds the rows of chunk the upsert skipped because
// another dimension tuple holds their hash, and upserts each at the first
// slot after its hash that is free or holds its own tuple.
func (db *DB) resolveCollisions(ctx context.Context, tx *sql.Tx, chunk []hashedRow) (int, error) {
	slot := tx.StmtContext(ctx, db.stmts.slot)
	upsert := tx.StmtContext(ctx, db.stmts.upsertOne)
	var stored [apilens.MaxDims]string
	dest := make([]any, apilens.MaxDims)
	for i := range stored {
		dest[i] = &stored[i]
	}
	n := 0
	for _, x := range chunk {
		r, h := x.r, x.h
		for probe := uint64(0); ; probe++ {
			k := int64(uint64(h) + probe)
			err := slot.QueryRowContext(ctx, int64(r.Family), int64(r.Gran), r.Bucket, k).Scan(dest...)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return n, err
			}
			if err == nil && stored != r.Dims {
				continue
			}
			if probe == 0 {
				break // the chunk's upsert applied it at its own hash
			}
			res, err := upsert.ExecContext(ctx, appendRowArgs(nil, r, k)...)
			if err != nil {
				return n, err
			}
			if a, err := res.RowsAffected(); err != nil || a != 1 {
				return n, fmt.Errorf("upsert at probed slot %d affected %d rows (%v)", k, a, err)
			}
			db.logger.Warn("rollup key hash collision", "family", r.Family, "gran", r.Gran, "bucket", r.Bucket, "hash", h, "probes", probe)
			n++
			break
		}
	}
	return n, nil
}

// StreamOffset returns the offset the last flush of stream recorded, or 0.
func (db *DB) StreamOffset(ctx context.Context, stream string) (int64, error) {
	var off int64
	err := db.reader.QueryRowContext(ctx, `SELECT "offset" FROM stream_offsets WHERE stream = ?`, stream).Scan(&off)
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
	rows, err := db.reader.QueryContext(ctx, `SELECT key, seen FROM idempotency_keys WHERE seen >= ? ORDER BY seen, key`, micros(since))
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

// QueryRollups calls fn for each row q selects. A filter on a dimension
// position the family does not have fails with EINVALID.
func (db *DB) QueryRollups(ctx context.Context, q apilens.RollupQuery, fn func(*apilens.RollupRow) error) error {
	if q.Family < 1 || int(q.Family) > len(apilens.Families) {
		return apilens.Errorf(apilens.EINVALID, "unknown rollup family %d", q.Family)
	}
	if q.Gran < apilens.Minute || q.Gran > apilens.Year {
		return apilens.Errorf(apilens.EINVALID, "unknown granularity %d", q.Gran)
	}
	ndims := len(q.Family.Spec().Dims)
	cols := slices.Concat([]string{"bucket"}, dimCols, counterCols, []string{"resp_sketch", "backend_sketch"})
	var b strings.Builder
	b.WriteString("SELECT " + strings.Join(cols, ", ") + " FROM rollups WHERE family = ? AND gran = ? AND bucket >= ? AND bucket < ?")
	args := []any{int64(q.Family), int64(q.Gran), q.From, q.To}
	for _, pos := range slices.Sorted(maps.Keys(q.Filter)) {
		if pos < 0 || pos >= ndims {
			return apilens.Errorf(apilens.EINVALID, "family %s has no dimension %d to filter on", q.Family, pos)
		}
		b.WriteString(" AND " + dimCols[pos] + " = ?")
		args = append(args, q.Filter[pos])
	}
	rows, err := db.reader.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return fmt.Errorf("query %s rollups: %w", q.Family, err)
	}
	defer rows.Close()

	row := apilens.RollupRow{Family: q.Family, Gran: q.Gran}
	dest := make([]any, 0, len(cols))
	dest = append(dest, &row.Bucket)
	for i := range row.Dims {
		dest = append(dest, &row.Dims[i])
	}
	for _, c := range counters(&row.Measures) {
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
	rows, err := db.reader.QueryContext(ctx, `SELECT id, min_time, max_time, count, data FROM raw_batches
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

// Purge deletes the rollup rows of each granularity that r does not keep
// at now (see apilens.Retention.Keeps), the raw batches whose MaxTime is
// before rawBefore and the idempotency keys seen before keysBefore. It
// returns how many rows it deleted from the three together. Each family
// and granularity is its own statement, so a large purge never holds the
// writer, and with it the flushes, for long. Being the periodic
// maintenance, it also refreshes the query planner's statistics.
func (db *DB) Purge(ctx context.Context, now time.Time, r apilens.Retention, rawBefore, keysBefore time.Time) (int64, error) {
	var total int64
	exec := func(what, query string, args ...any) error {
		res, err := db.writer.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("purge %s: %w", what, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("purge %s: %w", what, err)
		}
		total += n
		return nil
	}
	families, err := db.storedFamilies(ctx)
	if err != nil {
		return 0, err
	}
	for _, g := range apilens.Granularities {
		d := r[g]
		if d <= 0 {
			continue
		}
		// Retention.Keeps drops a bucket whose end is before now-d; for
		// aligned buckets that is every bucket before the one holding
		// the instant just before now-d.
		before := g.Truncate(now.Add(-d).Add(-time.Nanosecond)).Unix()
		for _, f := range families {
			if err := exec(g.String()+" rollups", `DELETE FROM rollups WHERE family = ? AND gran = ? AND bucket < ?`, f, int64(g), before); err != nil {
				return total, err
			}
		}
	}
	if err := exec("raw batches", `DELETE FROM raw_batches WHERE max_time < ?`, micros(rawBefore)); err != nil {
		return total, err
	}
	if err := exec("idempotency keys", `DELETE FROM idempotency_keys WHERE seen < ?`, micros(keysBefore)); err != nil {
		return total, err
	}
	return total, db.optimize(ctx, "PRAGMA optimize=0x10002")
}

// storedFamilies returns the distinct families in rollups, including any
// a newer binary wrote, with one primary-key seek each.
func (db *DB) storedFamilies(ctx context.Context) ([]int64, error) {
	var fams []int64
	last := int64(-1 << 63)
	for {
		var f sql.NullInt64
		if err := db.writer.QueryRowContext(ctx, `SELECT min(family) FROM rollups WHERE family > ?`, last).Scan(&f); err != nil {
			return nil, fmt.Errorf("purge: list families: %w", err)
		}
		if !f.Valid {
			return fams, nil
		}
		fams = append(fams, f.Int64)
		last = f.Int64
	}
}
