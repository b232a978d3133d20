package simulate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/apilens/apilens"
)

// LogRun makes Run write the gateway logs of its traffic as well: each
// call is served by one of the gateways (Sources), which logs what the
// call causes, and each gateway logs its own activity between calls.
type LogRun struct {
	// LogOptions set the layout, zone and ambient rate; their Options
	// (platform and seed) are the run's.
	LogOptions
	// Sources name the gateways, as they ship their logs
	// (POST /api/v1/logs?source=NAME); default gw-1.
	Sources []string
	// File, when set, takes the lines of every gateway, as one
	// wso2carbon.log, instead of the receiver.
	File io.Writer
}

// Log batches stay under the receiver's and ship's limits.
const (
	logBatchBytes = 1 << 20
	logBatchLines = 5000
)

// logSink turns the run's events into log lines and ships them. The
// producer calls observe and close; one goroutine posts.
type logSink struct {
	o       LogRun
	g       *LogGenerator
	r       *rand.Rand
	client  *LogClient
	s       *sender
	sources []*logSource
	// backfill keeps every record until close, because backfilled events
	// come in random time order and a log is written in time order.
	backfill bool
	pending  []timedRecord
	scratch  []byte

	out  chan logBatch
	done sync.WaitGroup
}

// logSource is one gateway's log: what it has not sent yet.
type logSource struct {
	name        string
	buf         []byte
	lines       int
	opened      time.Time // when buf got its first line
	nextAmbient time.Time
}

type timedRecord struct {
	ts    time.Time
	src   int
	text  []byte
	lines int
}

type logBatch struct {
	source string
	body   []byte
	lines  int
}

func newLogSink(ctx context.Context, o RunOptions, s *sender) *logSink {
	lr := *o.Logs
	lr.Options = o.Options
	if len(lr.Sources) == 0 || lr.File != nil {
		// A file is one gateway's log.
		lr.Sources = []string{"gw-1"}
	}
	k := &logSink{
		o:        lr,
		g:        NewLogGenerator(lr.LogOptions),
		r:        rand.New(rand.NewPCG(o.Seed^0x73696e6b, 5)), // "sink"
		client:   &LogClient{URL: o.URL, User: o.User, Password: o.Password, Token: o.Token, Client: o.Client, MaxRetries: o.MaxRetries},
		s:        s,
		backfill: o.backfill(),
		out:      make(chan logBatch, 4),
	}
	start := time.Now()
	if k.backfill {
		start = o.BackfillFrom
	}
	for _, name := range lr.Sources {
		k.sources = append(k.sources, &logSource{name: name, nextAmbient: k.g.NextAmbient(start)})
	}
	k.done.Go(func() { k.ship(ctx) })
	return k
}

// observe logs the call e on one of the gateways.
func (k *logSink) observe(ctx context.Context, e *apilens.Event) {
	i := k.r.IntN(len(k.sources))
	if k.backfill {
		if text, lines := k.gen(func(b []byte) []byte { return k.g.AppendEvent(b, e) }); lines > 0 {
			k.pending = append(k.pending, timedRecord{ts: e.RequestTimestamp, src: i, text: bytes.Clone(text), lines: lines})
		}
		return
	}
	// Live: each gateway's own activity up to now comes first.
	now := e.RequestTimestamp
	for _, src := range k.sources {
		for !src.nextAmbient.After(now) {
			text, lines := k.gen(func(b []byte) []byte { return k.g.AppendAmbient(b, src.nextAmbient) })
			k.add(ctx, src, text, lines)
			src.nextAmbient = k.g.NextAmbient(src.nextAmbient)
		}
	}
	text, lines := k.gen(func(b []byte) []byte { return k.g.AppendEvent(b, e) })
	k.add(ctx, k.sources[i], text, lines)
	for _, src := range k.sources {
		if src.lines > 0 && time.Since(src.opened) >= linger {
			k.flush(ctx, src)
		}
	}
}

// gen returns what write appends, in a scratch buffer, and its number of
// lines.
func (k *logSink) gen(write func([]byte) []byte) ([]byte, int) {
	lines := k.g.Lines()
	k.scratch = write(k.scratch[:0])
	return k.scratch, int(k.g.Lines() - lines)
}

// add adds text, of so many lines, to src's batch, sending the batch
// first when it would grow too big.
func (k *logSink) add(ctx context.Context, src *logSource, text []byte, lines int) {
	if lines == 0 {
		return
	}
	if src.lines > 0 && (len(src.buf)+len(text) > logBatchBytes || src.lines+lines > logBatchLines) {
		k.flush(ctx, src)
	}
	if src.lines == 0 {
		src.opened = time.Now()
	}
	src.buf = append(src.buf, text...)
	src.lines += lines
}

// flush hands src's lines to the poster.
func (k *logSink) flush(ctx context.Context, src *logSource) {
	if src.lines == 0 {
		return
	}
	select {
	case k.out <- logBatch{source: src.name, body: src.buf, lines: src.lines}:
	case <-ctx.Done():
	}
	// A fresh buffer: the poster still reads the old one.
	src.buf, src.lines = nil, 0
}

// close sends what is left (in a backfill, everything, in time order,
// with each gateway's own activity over the window) and waits until it
// is acknowledged.
func (k *logSink) close(ctx context.Context, to time.Time) {
	if k.backfill {
		for i, src := range k.sources {
			for src.nextAmbient.Before(to) && ctx.Err() == nil {
				text, lines := k.gen(func(b []byte) []byte { return k.g.AppendAmbient(b, src.nextAmbient) })
				k.pending = append(k.pending, timedRecord{ts: src.nextAmbient, src: i, text: bytes.Clone(text), lines: lines})
				src.nextAmbient = k.g.NextAmbient(src.nextAmbient)
			}
		}
		slices.SortStableFunc(k.pending, func(a, b timedRecord) int { return a.ts.Compare(b.ts) })
		for _, tr := range k.pending {
			if ctx.Err() != nil {
				break
			}
			k.add(ctx, k.sources[tr.src], tr.text, tr.lines)
		}
		k.pending = nil
	}
	for _, src := range k.sources {
		k.flush(ctx, src)
	}
	close(k.out)
	k.done.Wait()
}

// ship posts (or writes) the batches, one at a time, so that each
// gateway's lines arrive in order.
func (k *logSink) ship(ctx context.Context) {
	for b := range k.out {
		if ctx.Err() != nil {
			continue
		}
		if k.o.File != nil {
			if _, err := k.o.File.Write(b.body); err != nil {
				k.s.fail(fmt.Errorf("write log lines: %w", err))
				continue
			}
		} else if _, err := k.client.Post(ctx, "", b.source, "carbon", b.body); err != nil {
			if ctx.Err() == nil {
				k.s.fail(err)
			}
			continue
		}
		k.s.logLines.Add(int64(b.lines))
	}
}
