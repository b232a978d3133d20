// Package ingest is the one pipeline every receiver hands events to:
// validate and normalize (json.go), make durable in the log, then enrich,
// aggregate and flush rollups to the store exactly once.
//
// Exactly once without coordination: each flush writes its data (a tier's
// rollup deltas, or raw events) and the log position it covers in one
// transaction, each stream (Stream, StreamCoarse, StreamRaw) with its own
// position. After a crash the consumer resumes from the stored positions,
// so what was flushed is not replayed and what was not flushed is.
package ingest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/rollup"
)

// Streams under which the positions of the two flush tiers are stored.
// The fine tier carries minute and hour rows, raw events and idempotency
// keys; the coarse tier day, month and year rows. Each has its own position
// so that either can be flushed on its own cadence and still count every
// event exactly once.
const (
	Stream       = "events"
	StreamCoarse = "events@coarse"
	// StreamRaw is the position of the raw-event batches, written in chunks
	// on their own so they never pile up in memory for a whole flush.
	StreamRaw = "events@raw"
)

// StartOffset returns the log position replay must start from: the lowest
// of the streams' stored positions.
func StartOffset(ctx context.Context, store Store) (int64, error) {
	fine, coarse, raw, err := positions(ctx, store)
	return min(fine, coarse, raw), err
}

// positions reads the stored positions of the three streams.
func positions(ctx context.Context, store Store) (fine, coarse, raw int64, err error) {
	for _, s := range []struct {
		name string
		dst  *int64
	}{{Stream, &fine}, {StreamCoarse, &coarse}, {StreamRaw, &raw}} {
		if *s.dst, err = store.StreamOffset(ctx, s.name); err != nil {
			return 0, 0, 0, fmt.Errorf("read %s stream position: %w", s.name, err)
		}
	}
	return fine, coarse, raw, nil
}

// Log is the durable buffer between receivers and the consumer: package
// spool on one machine, a JetStream stream when scaled out.
type Log interface {
	// Append returns once the payloads are durable; end is the position
	// after the last one. It fails fast with an EBUSY error when full. It
	// does not keep the payloads: the caller may reuse them at once.
	Append(ctx context.Context, payloads ...[]byte) (end int64, err error)
	// Read returns a reader from position from.
	Read(from int64) LogReader
	// Release says that everything before upTo is flushed.
	Release(upTo int64) error
}

// LogReader reads a Log in order.
type LogReader interface {
	// Next blocks until a record is available. Data is never modified
	// afterwards: it stays valid as long as it is referenced, so a record
	// read ahead is still intact when its turn comes.
	Next(ctx context.Context) (data []byte, end int64, err error)
	// TryNext returns ok=false at once when no record is available.
	TryNext() (data []byte, end int64, ok bool, err error)
	// Close releases what the reader holds open.
	Close() error
}

// Store is what the pipeline needs of the database.
type Store interface {
	ApplyFlush(ctx context.Context, f *apilens.Flush) error
	StreamOffset(ctx context.Context, stream string) (int64, error)
	IdempotencyKeys(ctx context.Context, since time.Time) ([]apilens.IdempotencyKey, error)
}

// Options configure a Pipeline. Zero values mean the defaults.
type Options struct {
	Log   Log
	Store Store
	// Enrich adds geo and user-agent fields; nil leaves them empty.
	Enrich         func(*apilens.Event)
	Retention      apilens.Retention
	Cap            func(dim string) int
	FlushInterval  time.Duration // fine tier (minutes, hours, raw events): default 5s
	CoarseInterval time.Duration // coarse tier (days, months, years): default 30s
	FlushMaxRows   int           // flush a tier early past this many in-memory entries; default 50,000
	// MaxHeldBytes flushes the coarse tier early once the log bytes it keeps
	// from release pass it, so a high rate never fills the log waiting for
	// coarse_flush_interval; default 256 MiB (a quarter of the default log).
	MaxHeldBytes      int64
	IdempotencyWindow time.Duration // default 1h
	Metrics           *Metrics
	Logger            *slog.Logger
	Now               func() time.Time
}

// Pipeline accepts batches and keeps the rollups up to date.
type Pipeline struct {
	opts Options
	log  *slog.Logger
	m    *Metrics

	mu   sync.Mutex
	keys map[string]time.Time // idempotency keys: flushed, in the log, or being appended

	limiter *rollup.Limiter
	// fineFrom and coarseFrom are the tiers' stored positions at start:
	// records ending at or before them were counted in an earlier run.
	// Flushes are applied in order, fine before coarse, so coarseFrom ≤
	// fineFrom always holds.
	fineFrom, coarseFrom int64
	rawFrom              int64
	rawFlushes           chan *apilens.Flush
	flushes              chan *apilens.Flush
	// idle holds a token while the rollup flusher has nothing to do: the
	// consumer takes it to drain a tier, the flusher puts it back when
	// the flush is applied. So one flush's rows at most are in memory.
	idle   chan struct{}
	done   chan struct{}
	cancel context.CancelFunc

	statMu   sync.Mutex
	flushed  map[string]int64 // per tier stream: position covered by its last successful flush
	appended int64
	lastErr  error
}

// New returns a Pipeline; Start starts it.
func New(opts Options) *Pipeline {
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 5 * time.Second
	}
	if opts.CoarseInterval <= 0 {
		opts.CoarseInterval = 30 * time.Second
	}
	if opts.FlushMaxRows <= 0 {
		opts.FlushMaxRows = 50_000
	}
	if opts.MaxHeldBytes <= 0 {
		opts.MaxHeldBytes = 256 << 20
	}
	if opts.IdempotencyWindow <= 0 {
		opts.IdempotencyWindow = time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Retention == nil {
		opts.Retention = apilens.DefaultRetention()
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	return &Pipeline{
		opts:    opts,
		log:     opts.Logger.With("component", "ingest"),
		m:       opts.Metrics,
		keys:    make(map[string]time.Time),
		flushes: make(chan *apilens.Flush, 1),
		idle:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		flushed: make(map[string]int64),
	}
}

// Start loads the idempotency keys, finds where the consumer left off and
// starts it. Batches in the log that were not flushed are replayed; their
// keys are registered before Start returns, so a retry that arrives after
// a restart still counts once.
func (p *Pipeline) Start(ctx context.Context) error {
	p.limiter = rollup.NewLimiter(p.opts.Cap, func(dim string) { p.m.folded.WithLabelValues(dim).Inc() }, p.log)
	var err error
	if p.fineFrom, p.coarseFrom, p.rawFrom, err = positions(ctx, p.opts.Store); err != nil {
		return err
	}
	p.flushed[Stream], p.flushed[StreamCoarse], p.flushed[StreamRaw] = p.fineFrom, p.coarseFrom, p.rawFrom
	start := min(p.fineFrom, p.coarseFrom, p.rawFrom)
	p.rawFlushes = make(chan *apilens.Flush, 2)
	since := p.opts.Now().Add(-p.opts.IdempotencyWindow)
	keys, err := p.opts.Store.IdempotencyKeys(ctx, since)
	if err != nil {
		return fmt.Errorf("load idempotency keys: %w", err)
	}
	for _, k := range keys {
		p.keys[k.Key] = k.Seen
	}
	r := p.opts.Log.Read(start)
	defer r.Close()
	backlog := 0
	for {
		data, _, ok, err := r.TryNext()
		if err != nil {
			return fmt.Errorf("scan log backlog: %w", err)
		}
		if !ok {
			break
		}
		backlog++
		if k, err := apilens.BatchKey(data); err == nil && k != "" {
			p.keys[k] = p.opts.Now()
		}
	}
	if backlog > 0 {
		p.log.Info("replaying batches acknowledged but not yet flushed", "batches", backlog, "from", start)
	}
	cctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	flusherDone := make(chan struct{})
	p.idle <- struct{}{}
	go func() {
		defer close(flusherDone)
		p.flusher(cctx, p.flushes, p.idle)
	}()
	rawDone := make(chan struct{})
	go func() {
		defer close(rawDone)
		p.flusher(cctx, p.rawFlushes, nil)
	}()
	go func() {
		defer close(p.done)
		p.consume(cctx, start)
		close(p.flushes)
		close(p.rawFlushes)
		<-flusherDone
		<-rawDone
	}()
	return nil
}

// Close stops the consumer after a last flush of what it has read.
func (p *Pipeline) Close() error {
	if p.cancel == nil {
		return nil
	}
	p.cancel()
	<-p.done
	return nil
}

// Submit makes a batch of n events, encoded one after the other by
// apilens.AppendEvent, durable. It returns once they are in the log (the
// point at which the publisher may be acknowledged). principal scopes the
// idempotency key; a key already seen returns duplicate=true and the batch
// is not appended again.
func (p *Pipeline) Submit(ctx context.Context, principal, key string, events []byte, n int) (duplicate bool, err error) {
	var k string
	if key != "" {
		k = principal + "\x1f" + key
		p.mu.Lock()
		if _, seen := p.keys[k]; seen {
			p.mu.Unlock()
			p.m.duplicates.Inc()
			return true, nil
		}
		p.keys[k] = p.opts.Now()
		p.mu.Unlock()
	}
	// The log copies the payload, so the encoding buffer is reused.
	bp := batchBufs.Get().(*[]byte)
	data := apilens.AppendEncodedBatch((*bp)[:0], k, n, events)
	end, err := p.opts.Log.Append(ctx, data)
	if cap(data) <= 32<<20 {
		*bp = data[:0]
		batchBufs.Put(bp)
	}
	if err != nil {
		if k != "" {
			p.mu.Lock()
			delete(p.keys, k)
			p.mu.Unlock()
		}
		return false, err
	}
	p.m.accepted.Add(float64(n))
	p.m.batches.Inc()
	p.statMu.Lock()
	p.appended = max(p.appended, end)
	p.statMu.Unlock()
	return false, nil
}

var batchBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512<<10); return &b }}

// Lag returns the log bytes acknowledged but not yet flushed to the store,
// and the last flush error, if the store is failing.
func (p *Pipeline) Lag() (int64, error) {
	p.statMu.Lock()
	defer p.statMu.Unlock()
	return max(p.appended-p.flushed[Stream], 0), p.lastErr
}

// Flushed returns the log position every tier has caught up with.
func (p *Pipeline) Flushed() int64 {
	p.statMu.Lock()
	defer p.statMu.Unlock()
	return p.releasable()
}

// flushedAt returns the position the last flush of stream covered.
func (p *Pipeline) flushedAt(stream string) int64 {
	p.statMu.Lock()
	defer p.statMu.Unlock()
	return p.flushed[stream]
}

// releasable is the position before which no tier needs the log; statMu held.
func (p *Pipeline) releasable() int64 {
	first := true
	var lo int64
	for _, off := range p.flushed {
		if first || off < lo {
			lo, first = off, false
		}
	}
	return lo
}

// consume reads the log and keeps the two tiers: the fine one (minutes,
// hours, raw events, keys) aggregates events; the coarse one (days, months,
// years) takes the fine one's hour rows at each fine flush, so each event
// is aggregated once. Records the fine tier counted in an earlier run but
// the coarse one did not go through a catch-up aggregator to the coarse
// tier only.
func (p *Pipeline) consume(ctx context.Context, start int64) {
	// A reader goroutine reads, decodes and enriches records ahead of this
	// one, which counts them: slots go round between the two, each with
	// its own decoder, whose strings stay valid until the slot is back.
	rctx, stopReading := context.WithCancel(ctx)
	free, full := make(chan *decoded, readAhead), make(chan *decoded, readAhead)
	for range readAhead {
		free <- &decoded{dec: apilens.Decoder{Alias: true}} // records are never modified
	}
	readerDone := make(chan struct{})
	var atEnd atomic.Bool // the reader waits for records to be appended
	go func() {
		defer close(readerDone)
		p.read(rctx, start, free, full, &atEnd)
	}()
	defer func() {
		stopReading()
		<-readerDone
	}()
	newAgg := func(parallel, carry bool, grans ...apilens.Granularity) *rollup.Aggregator {
		return rollup.New(rollup.Options{Grans: grans, Carry: carry, Retention: p.opts.Retention, Limiter: p.limiter, Logger: p.log, Parallel: parallel})
	}
	// The fine tier counts every event as it arrives: half its families on
	// a second goroutine (rollup.Options.Parallel). The coarse tier takes
	// rows, and catch-up runs only after a restart.
	var (
		fine    = newAgg(true, true, apilens.Minute, apilens.Hour)
		coarse  = newAgg(false, false, apilens.Day, apilens.Month, apilens.Year)
		catchup = newAgg(false, true, apilens.Hour)
		raw     rawBuilder
		keys    []apilens.IdempotencyKey
		rawPos  int64 // after the last record in raw

		pos         = start        // after the last record read
		coarsePos   = p.coarseFrom // after the last record the coarse tier holds
		catchupPos  int64          // after the last record in catch-up
		fineEvents  int
		fineDirty   bool
		coarseDirty bool
		// coarseWanted says a flush of the coarse tier waits for the flusher.
		coarseWanted bool

		fineDeadline   = time.Now().Add(p.opts.FlushInterval)
		coarseDeadline = time.Now().Add(p.opts.CoarseInterval)
	)
	defer fine.Close()
	feedCoarse := func(carry []apilens.RollupRow, upTo int64) {
		if err := coarse.AddRows(carry); err != nil {
			// Sketches this process encoded a moment ago: cannot happen
			// short of a bug, which must not stop the counting.
			p.log.Error("carry rows to the coarse tier", "err", err)
		}
		coarsePos, coarseDirty = max(coarsePos, upTo), true
	}
	// Raw chunks go to their own flusher, cut when full and at each fine
	// flush, so raw events show up about as soon as the figures do.
	cutRaw := func() {
		if b, ok := raw.cut(); ok {
			p.rawFlushes <- &apilens.Flush{Stream: StreamRaw, Offset: rawPos, Raw: []apilens.RawBatch{b}}
		}
	}
	// acquire takes the flusher's idle token: at once, or, when force is
	// set, after the flush in progress. A tier due by its interval keeps
	// aggregating until the flusher is free (entries cost less memory than
	// the rows they become); a full fine tier waits for it, and a coarse
	// one at twice the size.
	acquire := func(force bool) bool {
		select {
		case <-p.idle:
			return true
		default:
		}
		if !force {
			return false
		}
		<-p.idle
		return true
	}
	flushFine := func(force bool) {
		if fineDirty && !acquire(force || fine.Len() >= p.opts.FlushMaxRows) {
			return
		}
		fineDeadline = time.Now().Add(p.opts.FlushInterval)
		cutRaw()
		if catchupPos > 0 {
			_, carry := catchup.Drain(p.opts.Now())
			feedCoarse(carry, catchupPos)
			catchupPos = 0
		}
		if !fineDirty {
			return
		}
		rows, carry := fine.Drain(p.opts.Now())
		feedCoarse(carry, pos)
		f := &apilens.Flush{Stream: Stream, Offset: pos, Rows: rows, Keys: keys}
		keys = nil
		p.m.flushEvents.Observe(float64(fineEvents))
		fineEvents, fineDirty = 0, false
		p.flushes <- f
	}
	flushCoarse := func(force bool) {
		if !coarseDirty {
			coarseDeadline, coarseWanted = time.Now().Add(p.opts.CoarseInterval), false
			return
		}
		if !acquire(force || coarse.Len() >= 2*p.opts.FlushMaxRows) {
			return
		}
		coarseDeadline, coarseWanted = time.Now().Add(p.opts.CoarseInterval), false
		rows, _ := coarse.Drain(p.opts.Now())
		coarseDirty = false
		p.flushes <- &apilens.Flush{Stream: StreamCoarse, Offset: coarsePos, Rows: rows}
	}
	for {
		var d *decoded
		select {
		case d = <-full:
		default:
		}
		// Caught up: nothing decoded, and nothing more in the log.
		caughtUp := d == nil && atEnd.Load()
		if d == nil {
			deadline := fineDeadline
			if coarseDeadline.Before(deadline) {
				deadline = coarseDeadline
			}
			wait := time.Until(deadline)
			if wait <= 0 {
				// A flush postponed while the flusher is busy: look again soon.
				wait = 10 * time.Millisecond
			}
			t := time.NewTimer(wait)
			select {
			case d = <-full:
			case <-t.C:
			case <-ctx.Done():
			}
			t.Stop()
		}
		if ctx.Err() != nil {
			flushFine(true)
			flushCoarse(true)
			cutRaw()
			return
		}
		if d != nil {
			end := d.end
			var rb *rawBuilder
			if end > p.rawFrom {
				// Raw events are the log records as they are: the form they
				// were acknowledged in, not re-encoded.
				raw.add(d.data)
				rawPos, rb = end, &raw
			}
			switch {
			case end > p.fineFrom:
				if n := p.apply(d, fine, rb, &keys); n >= 0 {
					fineEvents += n
					fineDirty = true
				}
			case end > p.coarseFrom:
				if p.apply(d, catchup, rb, nil) >= 0 {
					catchupPos = end
				}
			case rb != nil:
				p.apply(d, nil, rb, nil)
			}
			d.release()
			free <- d
			if raw.n >= rawBatchEvents {
				cutRaw()
			}
			pos = end
		}
		now := time.Now()
		fineDue := now.After(fineDeadline) || fine.Len() >= p.opts.FlushMaxRows
		if fineDue {
			flushFine(false)
		}
		// The coarse tier waits for its interval only under load: once the
		// consumer has caught up with the log, a fine flush takes it along
		// (as soon as the flusher is free), so that days, months and years
		// are as fresh as hours when there is time to spare.
		coarseWanted = coarseWanted || (fineDue && caughtUp)
		held := coarsePos-p.flushedAt(StreamCoarse) >= p.opts.MaxHeldBytes
		if coarseWanted || now.After(coarseDeadline) || coarse.Len() >= p.opts.FlushMaxRows || held {
			flushCoarse(held)
		}
	}
}

// readAhead is how many records the reader goroutine decodes ahead of
// the counting one.
const readAhead = 3

// decoded is a log record read and decoded by the reader goroutine.
type decoded struct {
	data  []byte
	end   int64
	err   error // the decoding error: the record is skipped
	dec   apilens.Decoder
	batch apilens.Batch
}

// maxKeptEvents bounds the events a slot keeps room for: a rare batch of
// tens of thousands of events must not leave three slots holding as many.
const maxKeptEvents = 10_000

// release lets go of what d no longer needs: the record, and the room a
// large batch made.
func (d *decoded) release() {
	d.data = nil
	if cap(d.batch.Events) > maxKeptEvents {
		d.batch.Events = nil
		d.dec = apilens.Decoder{Alias: true} // and its decompression buffer
	}
}

// read reads the log from start, decodes each record into a free slot and
// enriches its events when a tier will count them, and passes the slots on
// in order, until ctx is done. atEnd is set while it waits for the log.
func (p *Pipeline) read(ctx context.Context, start int64, free <-chan *decoded, full chan<- *decoded, atEnd *atomic.Bool) {
	r := p.opts.Log.Read(start)
	defer r.Close()
	counted := min(p.fineFrom, p.coarseFrom) // past it, a tier counts the events
	for {
		data, end, ok, err := r.TryNext()
		if err == nil && !ok {
			atEnd.Store(true)
			data, end, err = r.Next(ctx)
			atEnd.Store(false)
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			p.log.Error("read event log", "err", err, "after", start)
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return
			}
			continue
		}
		start = end
		var d *decoded
		select {
		case d = <-free:
		case <-ctx.Done():
			return
		}
		d.data, d.end = data, end
		d.err = d.dec.DecodeBatch(data, &d.batch)
		if d.err == nil && end > counted && p.opts.Enrich != nil {
			for i := range d.batch.Events {
				p.opts.Enrich(&d.batch.Events[i])
			}
		}
		full <- d // never blocks: there are as many places as slots
	}
}

// apply counts a decoded record's events into agg (when not nil), its
// time range into raw and its key into keys (when given). It returns the
// number of events, or -1 for a record that could not be decoded.
func (p *Pipeline) apply(d *decoded, agg *rollup.Aggregator, raw *rawBuilder, keys *[]apilens.IdempotencyKey) int {
	if d.err != nil {
		// The log checks every record's CRC, so this is a bug or a version
		// mismatch: say so loudly and skip the record.
		p.log.Error("skipping undecodable batch", "err", d.err, "end", d.end)
		p.m.corrupt.Inc()
		return -1
	}
	batch := &d.batch
	if keys != nil && batch.Key != "" {
		// Clone: the key is a view of the whole record.
		*keys = append(*keys, apilens.IdempotencyKey{Key: strings.Clone(batch.Key), Seen: p.opts.Now()})
	}
	if raw != nil {
		for i := range batch.Events {
			raw.span(batch.Events[i].RequestTimestamp)
		}
	}
	if agg != nil {
		agg.AddBatch(batch.Events)
	}
	p.m.consumed.Add(float64(len(batch.Events)))
	return len(batch.Events)
}

// flusher applies flushes in order, retrying until the store takes each
// one: while the database is down, receivers keep acknowledging into the
// log until it is full. After each flush it puts a token in idle, if given.
func (p *Pipeline) flusher(ctx context.Context, flushes <-chan *apilens.Flush, idle chan<- struct{}) {
	gaveUp := false
	for f := range flushes {
		// A coarse flush must never commit past a fine one that did not:
		// what was given up is replayed from the log at the next start.
		if !gaveUp {
			gaveUp = p.flush(ctx, f)
		}
		if idle != nil {
			idle <- struct{}{}
		}
	}
}

// flush applies f, retrying until the store takes it; at shutdown it gives
// up after a few attempts and says so.
func (p *Pipeline) flush(ctx context.Context, f *apilens.Flush) (gaveUp bool) {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		t0 := time.Now()
		// A flush in progress at shutdown is finished, not abandoned.
		err := p.opts.Store.ApplyFlush(context.WithoutCancel(ctx), f)
		if err == nil {
			p.m.flushSeconds.WithLabelValues(f.Stream).Observe(time.Since(t0).Seconds())
			p.m.flushRows.Add(float64(len(f.Rows)))
			p.statMu.Lock()
			p.flushed[f.Stream], p.lastErr = f.Offset, nil
			release := p.releasable()
			p.statMu.Unlock()
			if err := p.opts.Log.Release(release); err != nil {
				p.log.Warn("release flushed log segments", "err", err)
			}
			p.expireKeys()
			return false
		}
		p.m.flushErrors.Inc()
		p.statMu.Lock()
		p.lastErr = err
		p.statMu.Unlock()
		p.log.Error("flush rollups to the store; will retry", "err", err, "attempt", attempt, "rows", len(f.Rows))
		if ctx.Err() != nil && attempt >= 3 {
			p.log.Error("giving up the last flushes at shutdown; the log replays them at the next start")
			return true
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (p *Pipeline) expireKeys() {
	cut := p.opts.Now().Add(-p.opts.IdempotencyWindow)
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, seen := range p.keys {
		if seen.Before(cut) {
			delete(p.keys, k)
		}
	}
}

// rawBatchEvents bounds a raw batch so a drill-down decompresses little.
const rawBatchEvents = 10_000

// rawBuilder collects log records into a raw batch: the records as they
// are, each length-prefixed, after a zero byte that says so. The records
// are compressed already (codec.go), by the receivers, so the consumer
// does not compress them again. A raw batch that starts with anything else
// is the older form, the length-prefixed records compressed as one S2
// block (which cannot start with zero: that is the length of an empty
// block, and an empty batch is never stored).
type rawBuilder struct {
	buf      []byte
	n        int // events
	min, max time.Time
}

// rawRecords marks a raw batch of records as they are.
const rawRecords = 0

// add appends one log record.
func (b *rawBuilder) add(record []byte) {
	if len(b.buf) == 0 {
		b.buf = append(b.buf, rawRecords)
	}
	b.buf = binary.AppendUvarint(b.buf, uint64(len(record)))
	b.buf = append(b.buf, record...)
}

// span widens the batch's time range to t and counts an event.
func (b *rawBuilder) span(t time.Time) {
	if b.n == 0 || t.Before(b.min) {
		b.min = t
	}
	if b.n == 0 || t.After(b.max) {
		b.max = t
	}
	b.n++
}

// cut returns the batch built so far, if any, and starts a new one.
func (b *rawBuilder) cut() (apilens.RawBatch, bool) {
	if b.n == 0 {
		b.buf = b.buf[:0]
		return apilens.RawBatch{}, false
	}
	rb := apilens.RawBatch{MinTime: b.min, MaxTime: b.max, Count: b.n, Data: bytes.Clone(b.buf)}
	b.buf, b.n = b.buf[:0], 0
	return rb, true
}

// DecodeRaw calls fn for each event of a raw batch.
func DecodeRaw(rb *apilens.RawBatch, fn func(*apilens.Event) error) error {
	var data []byte
	if len(rb.Data) > 0 && rb.Data[0] == rawRecords {
		data = rb.Data[1:]
	} else {
		var err error
		if data, err = s2.Decode(nil, rb.Data); err != nil {
			return fmt.Errorf("decompress raw batch %d: %w", rb.ID, err)
		}
	}
	var d apilens.Decoder
	var batch apilens.Batch
	for len(data) > 0 {
		n, k := binary.Uvarint(data)
		if k <= 0 || n > uint64(len(data)-k) {
			return fmt.Errorf("raw batch %d: corrupt record length", rb.ID)
		}
		rec := data[k : k+int(n)]
		data = data[k+int(n):]
		if err := d.DecodeBatch(rec, &batch); err != nil {
			return fmt.Errorf("raw batch %d: %w", rb.ID, err)
		}
		for i := range batch.Events {
			if err := fn(&batch.Events[i]); err != nil {
				return err
			}
		}
	}
	return nil
}
