// Package sqlstore holds what the PostgreSQL and MySQL backends share and
// that does not depend on either database: the rollup key hash, the
// validation of flushes and queries, and the flush plan that merges the
// latency sketches in Go.
//
// # Why sketches are merged in Go
//
// SQLite merges sketches inside its upsert through a function registered
// with the driver. PostgreSQL could do the same only with the sketch
// encoding re-implemented in PL/pgSQL (or a C extension), and MySQL not at
// all. So these backends read the stored sketches of the keys a flush
// touches with SELECT … FOR UPDATE inside the flush's transaction, merge
// them with sketch.MergeEncoded (one implementation for every backend),
// and write the merged value back; counters are still added by the
// database (requests = requests + delta). Flushes are serialized per
// database by a transaction-scoped lock, so the read-merge-write needs no
// retry and two workers cannot deadlock on each other's new keys.
package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/sketch"
)

// KeyHash is the key_hash of a dimension tuple: 64-bit FNV-1a over each
// value preceded by its length as a uvarint, for every backend. It is part
// of the stored format: changing it splits every stored series in two.
func KeyHash(dims *[apilens.MaxDims]string) int64 {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	h := uint64(offset64)
	for _, d := range dims {
		n := uint64(len(d))
		for {
			b := byte(n & 0x7f)
			n >>= 7
			if n != 0 {
				b |= 0x80
			}
			h = (h ^ uint64(b)) * prime64
			if n == 0 {
				break
			}
		}
		for i := 0; i < len(d); i++ {
			h = (h ^ uint64(d[i])) * prime64
		}
	}
	return int64(h)
}

// keyHash is KeyHash; a variable so tests can force collisions.
var keyHash = KeyHash

// CounterCols are the rollups columns of the Measures counters, in the
// order of Counters.
var CounterCols = []string{
	"requests", "successful", "faults", "throttled",
	"status_2xx", "status_3xx", "status_4xx", "status_5xx",
	"fault_auth", "fault_target", "fault_other", "cache_hits",
	"responses", "response_latency_sum", "backend_latency_sum",
	"req_mediation_latency_sum", "resp_mediation_latency_sum",
}

// Counters returns pointers to the counters of m in CounterCols order.
func Counters(m *apilens.Measures) [17]*int64 {
	return [...]*int64{
		&m.Requests, &m.Successful, &m.Faults, &m.Throttled,
		&m.Status2xx, &m.Status3xx, &m.Status4xx, &m.Status5xx,
		&m.FaultAuth, &m.FaultTarget, &m.FaultOther, &m.CacheHits,
		&m.Responses, &m.ResponseLatencySum, &m.BackendLatencySum,
		&m.RequestMediationLatencySum, &m.ResponseMediationLatencySum,
	}
}

// DimCols are the dimension value columns.
var DimCols = []string{"d0", "d1", "d2", "d3", "d4", "d5", "d6"}

// ValidRow returns an EINVALID error if r cannot be stored.
func ValidRow(r *apilens.RollupRow) error {
	if r.Family < 1 || int(r.Family) > len(apilens.Families) {
		return apilens.Errorf(apilens.EINVALID, "rollup row of unknown family %d", r.Family)
	}
	if r.Gran < apilens.Minute || r.Gran > apilens.Year {
		return apilens.Errorf(apilens.EINVALID, "rollup row of unknown granularity %d", r.Gran)
	}
	if !r.Gran.Aligned(time.Unix(r.Bucket, 0)) {
		return apilens.Errorf(apilens.EINVALID, "%s bucket %d is not aligned to its granularity", r.Gran, r.Bucket)
	}
	spec := r.Family.Spec()
	for i := len(spec.Dims); i < apilens.MaxDims; i++ {
		if r.Dims[i] != "" {
			return apilens.Errorf(apilens.EINVALID, "%s row has a value in dimension %d, past its %d dimensions", spec.Name, i, len(spec.Dims))
		}
	}
	return nil
}

// ValidFlush returns an EINVALID error if f has no stream name, an
// invalid row (ValidRow), an empty idempotency key or a raw batch with a
// bad time range or count: checked before a transaction starts, so a bad
// flush changes nothing.
func ValidFlush(f *apilens.Flush) error {
	if f.Stream == "" {
		return apilens.Errorf(apilens.EINVALID, "flush has no stream name")
	}
	for i := range f.Rows {
		if err := ValidRow(&f.Rows[i]); err != nil {
			return err
		}
	}
	for _, k := range f.Keys {
		if k.Key == "" {
			return apilens.Errorf(apilens.EINVALID, "empty idempotency key")
		}
	}
	for i, r := range f.Raw {
		if r.MaxTime.Before(r.MinTime) || r.Count < 0 {
			return apilens.Errorf(apilens.EINVALID, "raw batch %d: bad time range [%v, %v] or count %d", i, r.MinTime, r.MaxTime, r.Count)
		}
	}
	return nil
}

// ValidQuery returns an EINVALID error if q names an unknown family or
// granularity or filters on a dimension its family does not have, and
// otherwise the filtered positions in increasing order.
func ValidQuery(q apilens.RollupQuery) ([]int, error) {
	if q.Family < 1 || int(q.Family) > len(apilens.Families) {
		return nil, apilens.Errorf(apilens.EINVALID, "unknown rollup family %d", q.Family)
	}
	if q.Gran < apilens.Minute || q.Gran > apilens.Year {
		return nil, apilens.Errorf(apilens.EINVALID, "unknown granularity %d", q.Gran)
	}
	ndims := len(q.Family.Spec().Dims)
	var pos []int
	for p := range q.Filter {
		if p < 0 || p >= ndims {
			return nil, apilens.Errorf(apilens.EINVALID, "family %s has no dimension %d to filter on", q.Family, p)
		}
		pos = append(pos, p)
	}
	slices.Sort(pos)
	return pos, nil
}

// PurgeBefore returns the first bucket of granularity g that retention d
// keeps at now (see apilens.Retention.Keeps): every bucket before it goes.
func PurgeBefore(g apilens.Granularity, d time.Duration, now time.Time) int64 {
	return g.Truncate(now.Add(-d).Add(-time.Nanosecond)).Unix()
}

// Key is the primary key of a stored rollup row.
type Key struct {
	Family apilens.Family
	Gran   apilens.Granularity
	Bucket int64
	Hash   int64
}

// Compare orders keys as the primary key does.
func (k Key) Compare(o Key) int {
	switch {
	case k.Family != o.Family:
		return cmpInt(int64(k.Family), int64(o.Family))
	case k.Gran != o.Gran:
		return cmpInt(int64(k.Gran), int64(o.Gran))
	case k.Bucket != o.Bucket:
		return cmpInt(k.Bucket, o.Bucket)
	}
	return cmpInt(k.Hash, o.Hash)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Stored is what a backend reads back of a stored row to plan a flush.
type Stored struct {
	Dims           [apilens.MaxDims]string
	ResponseSketch []byte
	BackendSketch  []byte
}

// Write is one row a flush writes at Key: an insert of Row, or an update
// that adds Row's counters to the stored ones and replaces the stored
// sketches by Row's (already merged with them) where Row has one.
type Write struct {
	Key    Key
	Row    *apilens.RollupRow
	Update bool
}

// Backend is what Plan needs of a database, inside the flush's
// transaction.
type Backend interface {
	// Lock reads and locks the stored rows with the given keys, sorted in
	// primary-key order; a key with no row is left out.
	Lock(ctx context.Context, keys []Key) (map[Key]*Stored, error)
	// Write applies one chunk's writes.
	Write(ctx context.Context, writes []Write) error
}

// Plan adds rows to the stored rollups through b, chunk rows at a time in
// primary-key order, and returns how many rows it placed after a hash
// collision. Rows must be valid (ValidRow). Rows with the same family,
// granularity, bucket and dimensions are first summed, as one row.
//
// A row goes at its key hash unless a stored row, or a row of this flush,
// with other dimension values holds that slot; it then goes at the next
// slot that is free or holds its own values (linear probing, as the SQLite
// backend does, so the backends find a probed row the same way).
func Plan(ctx context.Context, rows []apilens.RollupRow, chunk int, b Backend) (collisions int, err error) {
	type series struct {
		f    apilens.Family
		g    apilens.Granularity
		b    int64
		dims [apilens.MaxDims]string
	}
	merged := make(map[series]*apilens.RollupRow, len(rows))
	type hashed struct {
		k Key
		r *apilens.RollupRow
	}
	sorted := make([]hashed, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		dims := r.Dims
		for j := range dims {
			dims[j] = Text(dims[j])
		}
		s := series{r.Family, r.Gran, r.Bucket, dims}
		if m, ok := merged[s]; ok {
			if err := addRow(m, r); err != nil {
				return 0, err
			}
			continue
		}
		c := *r // a copy: merging must not change the caller's rows
		c.Dims = dims
		merged[s] = &c
		sorted = append(sorted, hashed{Key{r.Family, r.Gran, r.Bucket, keyHash(&dims)}, &c})
	}
	slices.SortFunc(sorted, func(a, b hashed) int { return a.k.Compare(b.k) })

	// slots are the dimension values known at each key: stored, or placed
	// by this flush. Two rows with equal hashes may fall in two chunks, so
	// both maps live as long as the flush.
	slots := map[Key]*[apilens.MaxDims]string{}
	stored := map[Key]*Stored{}
	writes := make([]Write, 0, min(chunk, len(sorted)))
	for part := range slices.Chunk(sorted, chunk) {
		keys := make([]Key, 0, len(part))
		for _, x := range part {
			if _, ok := slots[x.k]; !ok {
				keys = append(keys, x.k)
			}
		}
		locked, err := b.Lock(ctx, keys)
		if err != nil {
			return collisions, err
		}
		for k, s := range locked {
			stored[k], slots[k] = s, &s.Dims
		}
		writes = writes[:0]
		for _, x := range part {
			k := x.k
			for probe := 0; ; probe++ {
				dims, ok := slots[k]
				if !ok && probe > 0 {
					// A probed slot was not among the chunk's keys.
					more, err := b.Lock(ctx, []Key{k})
					if err != nil {
						return collisions, err
					}
					if s := more[k]; s != nil {
						stored[k], slots[k] = s, &s.Dims
						dims, ok = &s.Dims, true
					}
				}
				if ok && *dims != x.r.Dims {
					k.Hash++
					continue
				}
				if probe > 0 {
					collisions++
				}
				w := Write{Key: k, Row: x.r}
				if s := stored[k]; s != nil {
					w.Update = true
					if err := mergeSketches(x.r, s); err != nil {
						return collisions, fmt.Errorf("%s %s row at bucket %d: %w", x.r.Family, x.r.Gran, x.r.Bucket, err)
					}
				}
				slots[k] = &x.r.Dims
				writes = append(writes, w)
				break
			}
		}
		// A probed row may sort before its neighbors: keep the chunk's
		// writes in key order, the order every writer locks in.
		slices.SortFunc(writes, func(a, b Write) int { return a.Key.Compare(b.Key) })
		if err := b.Write(ctx, writes); err != nil {
			return collisions, err
		}
	}
	return collisions, nil
}

// addRow adds o to m: counters summed, sketches merged.
func addRow(m, o *apilens.RollupRow) error {
	m.AddCounts(&o.Measures)
	var err error
	if m.ResponseSketch, err = sketch.MergeEncoded(m.ResponseSketch, o.ResponseSketch); err != nil {
		return fmt.Errorf("merge response latency sketches: %w", err)
	}
	if m.BackendSketch, err = sketch.MergeEncoded(m.BackendSketch, o.BackendSketch); err != nil {
		return fmt.Errorf("merge backend latency sketches: %w", err)
	}
	return nil
}

// mergeSketches merges the stored sketches into r's where r has one; where
// it has none, the update keeps the stored sketch as it is.
func mergeSketches(r *apilens.RollupRow, s *Stored) error {
	var err error
	if len(r.ResponseSketch) > 0 {
		if r.ResponseSketch, err = sketch.MergeEncoded(s.ResponseSketch, r.ResponseSketch); err != nil {
			return fmt.Errorf("merge stored response latency sketch: %w", err)
		}
	}
	if len(r.BackendSketch) > 0 {
		if r.BackendSketch, err = sketch.MergeEncoded(s.BackendSketch, r.BackendSketch); err != nil {
			return fmt.Errorf("merge stored backend latency sketch: %w", err)
		}
	}
	return nil
}

// Text returns s as PostgreSQL and MySQL store it: their text types take
// neither invalid UTF-8 nor (PostgreSQL) NUL, which a publisher may send, so
// each run of invalid bytes and each NUL becomes U+FFFD. Rollup keys, filters and
// log records all go through it, so a filter on the value as sent finds
// the row stored for it.
func Text(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// BlobOrNil binds an empty sketch as NULL, the one spelling of "none".
func BlobOrNil(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// LogCursor is the cursor of LogPage.Next after a record at time t
// (Unix microseconds) with the given id, the form the SQLite backend
// gives out too.
func LogCursor(t, id int64) string {
	return strconv.FormatInt(t, 10) + "." + strconv.FormatInt(id, 10)
}

// ParseLogCursor returns the time and id of a LogCursor, or EINVALID.
func ParseLogCursor(c string) (t, id int64, err error) {
	a, b, ok := strings.Cut(c, ".")
	if ok {
		t, err = strconv.ParseInt(a, 10, 64)
		if err == nil {
			id, err = strconv.ParseInt(b, 10, 64)
		}
	}
	if !ok || err != nil {
		return 0, 0, apilens.Errorf(apilens.EINVALID, "cursor: %q is not a cursor this server gave out", c)
	}
	return t, id, nil
}
