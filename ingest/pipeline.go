// Package ingest is the one pipeline every receiver hands events to:
// validate and normalize (json.go), make durable in the log, then enrich,
// aggregate and flush rollups to the store exactly once.
//
// Exactly once without coordination: a flush writes the rollup deltas, the
// raw events, the idempotency keys and the log position it covers in one
// transaction. After a crash the consumer resumes from the stored position,
// so what was flushed is not replayed and what was not flushed is.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/rollup"
)

// Stream is the name under which the event log's position is stored.
const Stream = "events"

// Log is the durable buffer between receivers and the consumer: package
// spool on one machine, a JetStream stream when scaled out.
type Log interface {
	// Append returns once the payloads are durable; end is the position
	// after the last one. It fails fast with an EBUSY error when full.
	Append(ctx context.Context, payloads ...[]byte) (end int64, err error)
	// Read returns a reader from position from.
	Read(from int64) LogReader
	// Release says that everything before upTo is flushed.
	Release(upTo int64) error
}

// LogReader reads a Log in order.
type LogReader interface {
	// Next blocks until a record is available; data is valid until the
	// next call.
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
	Enrich            func(*apilens.Event)
	Retention         apilens.Retention
	Cap               func(dim string) int
	FlushInterval     time.Duration // default 2s
	FlushMaxRows      int           // flush early past this many in-memory entries; default 200,000
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

	start   int64 // log position the consumer starts from
	flushes chan *apilens.Flush
	done    chan struct{}
	cancel  context.CancelFunc

	statMu   sync.Mutex
	flushed  int64 // log position covered by the last successful flush
	appended int64
	lastErr  error
}

// New returns a Pipeline; Start starts it.
func New(opts Options) *Pipeline {
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 2 * time.Second
	}
	if opts.FlushMaxRows <= 0 {
		opts.FlushMaxRows = 200_000
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
		done:    make(chan struct{}),
	}
}

// Start loads the idempotency keys, finds where the consumer left off and
// starts it. Batches in the log that were not flushed are replayed; their
// keys are registered before Start returns, so a retry that arrives after
// a restart still counts once.
func (p *Pipeline) Start(ctx context.Context) error {
	start, err := p.opts.Store.StreamOffset(ctx, Stream)
	if err != nil {
		return fmt.Errorf("read stream position: %w", err)
	}
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
	p.start, p.flushed = start, start
	cctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	flusherDone := make(chan struct{})
	go func() {
		defer close(flusherDone)
		p.flusher(cctx)
	}()
	go func() {
		defer close(p.done)
		p.consume(cctx)
		close(p.flushes)
		<-flusherDone
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

// Submit makes a batch durable. It returns once the events are in the log
// (the point at which the publisher may be acknowledged). principal scopes
// the idempotency key; a key already seen returns duplicate=true and the
// batch is not appended again.
func (p *Pipeline) Submit(ctx context.Context, principal, key string, events []apilens.Event) (duplicate bool, err error) {
	var k string
	if key != "" {
		k = principal + "\x00" + key
		p.mu.Lock()
		if _, seen := p.keys[k]; seen {
			p.mu.Unlock()
			p.m.duplicates.Inc()
			return true, nil
		}
		p.keys[k] = p.opts.Now()
		p.mu.Unlock()
	}
	data := apilens.AppendBatch(make([]byte, 0, 256*len(events)+64), &apilens.Batch{Key: k, Events: events})
	end, err := p.opts.Log.Append(ctx, data)
	if err != nil {
		if k != "" {
			p.mu.Lock()
			delete(p.keys, k)
			p.mu.Unlock()
		}
		return false, err
	}
	p.m.accepted.Add(float64(len(events)))
	p.m.batches.Inc()
	p.statMu.Lock()
	p.appended = max(p.appended, end)
	p.statMu.Unlock()
	return false, nil
}

// Lag returns the log bytes acknowledged but not yet flushed to the store,
// and the last flush error, if the store is failing.
func (p *Pipeline) Lag() (int64, error) {
	p.statMu.Lock()
	defer p.statMu.Unlock()
	return max(p.appended-p.flushed, 0), p.lastErr
}

// Flushed returns the log position the store has caught up with.
func (p *Pipeline) Flushed() int64 {
	p.statMu.Lock()
	defer p.statMu.Unlock()
	return p.flushed
}

// consume reads the log, aggregates and hands flushes to the flusher.
func (p *Pipeline) consume(ctx context.Context) {
	agg := rollup.New(rollup.Options{
		Retention: p.opts.Retention, Cap: p.opts.Cap, Logger: p.log,
		OnFold: func(dim string) { p.m.folded.WithLabelValues(dim).Inc() },
	})
	r := p.opts.Log.Read(p.start)
	defer r.Close()
	var (
		dec      apilens.Decoder
		batch    apilens.Batch
		pos      = p.start
		raw      rawBuilder
		keys     []apilens.IdempotencyKey
		events   int
		deadline = time.Now().Add(p.opts.FlushInterval)
	)
	flush := func() {
		if pos == p.start && events == 0 {
			deadline = time.Now().Add(p.opts.FlushInterval)
			return
		}
		f := &apilens.Flush{Stream: Stream, Offset: pos, Keys: keys}
		f.Rows = agg.Drain(p.opts.Now())
		f.Raw = raw.finish()
		p.m.flushEvents.Observe(float64(events))
		p.flushes <- f // waits while the previous flush is in progress
		keys, events = nil, 0
		p.start = pos
		deadline = time.Now().Add(p.opts.FlushInterval)
	}
	for {
		data, end, ok, err := r.TryNext()
		if err == nil && !ok {
			wait := time.Until(deadline)
			if wait <= 0 {
				flush()
				continue
			}
			wctx, cancel := context.WithTimeout(ctx, wait)
			data, end, err = r.Next(wctx)
			cancel()
			if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				flush()
				continue
			}
		}
		if ctx.Err() != nil {
			flush()
			return
		}
		if err != nil {
			p.log.Error("read event log", "err", err, "position", pos)
			time.Sleep(time.Second)
			continue
		}
		if err := dec.DecodeBatch(data, &batch); err != nil {
			// The log checks every record's CRC, so this is a bug or a
			// version mismatch: say so loudly and skip the record.
			p.log.Error("skipping undecodable batch", "err", err, "position", pos)
			p.m.corrupt.Inc()
		} else {
			now := p.opts.Now()
			if batch.Key != "" {
				keys = append(keys, apilens.IdempotencyKey{Key: batch.Key, Seen: now})
			}
			for i := range batch.Events {
				e := &batch.Events[i]
				if p.opts.Enrich != nil {
					p.opts.Enrich(e)
				}
				agg.Add(e)
				raw.add(e)
			}
			events += len(batch.Events)
			p.m.consumed.Add(float64(len(batch.Events)))
		}
		pos = end
		if agg.Len() >= p.opts.FlushMaxRows || time.Now().After(deadline) {
			flush()
		}
	}
}

// flusher applies flushes in order, retrying until the store takes each
// one: while the database is down, receivers keep acknowledging into the
// log until it is full.
func (p *Pipeline) flusher(ctx context.Context) {
	for f := range p.flushes {
		backoff := 100 * time.Millisecond
		for attempt := 1; ; attempt++ {
			t0 := time.Now()
			// A flush in progress at shutdown is finished, not abandoned.
			err := p.opts.Store.ApplyFlush(context.WithoutCancel(ctx), f)
			if err == nil {
				p.m.flushSeconds.Observe(time.Since(t0).Seconds())
				p.m.flushRows.Add(float64(len(f.Rows)))
				p.statMu.Lock()
				p.flushed, p.lastErr = f.Offset, nil
				p.statMu.Unlock()
				if err := p.opts.Log.Release(f.Offset); err != nil {
					p.log.Warn("release flushed log segments", "err", err)
				}
				p.expireKeys()
				break
			}
			p.m.flushErrors.Inc()
			p.statMu.Lock()
			p.lastErr = err
			p.statMu.Unlock()
			p.log.Error("flush rollups to the store; will retry", "err", err, "attempt", attempt, "rows", len(f.Rows))
			if ctx.Err() != nil && attempt >= 3 {
				p.log.Error("giving up the last flush at shutdown; the log replays it at the next start")
				break
			}
			time.Sleep(backoff)
			backoff = min(2*backoff, 10*time.Second)
		}
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
const rawBatchEvents = 20_000

var zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))

// rawBuilder collects raw events into compressed batches.
type rawBuilder struct {
	buf      []byte
	n        int
	min, max time.Time
	done     []apilens.RawBatch
}

func (b *rawBuilder) add(e *apilens.Event) {
	if b.n == 0 || e.RequestTimestamp.Before(b.min) {
		b.min = e.RequestTimestamp
	}
	if b.n == 0 || e.RequestTimestamp.After(b.max) {
		b.max = e.RequestTimestamp
	}
	b.buf = apilens.AppendEvent(b.buf, e)
	b.n++
	if b.n >= rawBatchEvents {
		b.cut()
	}
}

func (b *rawBuilder) cut() {
	if b.n == 0 {
		return
	}
	b.done = append(b.done, apilens.RawBatch{MinTime: b.min, MaxTime: b.max, Count: b.n, Data: zenc.EncodeAll(b.buf, nil)})
	b.buf, b.n = b.buf[:0], 0
}

func (b *rawBuilder) finish() []apilens.RawBatch {
	b.cut()
	d := b.done
	b.done = nil
	return d
}

// DecodeRaw calls fn for each event of a raw batch.
func DecodeRaw(rb *apilens.RawBatch, fn func(*apilens.Event) error) error {
	data, err := zdec.DecodeAll(rb.Data, nil)
	if err != nil {
		return fmt.Errorf("decompress raw batch %d: %w", rb.ID, err)
	}
	var d apilens.Decoder
	return d.DecodeEvents(data, fn)
}

var zdec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
