package simulate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/publisher"
)

// runPublisher is Run through package publisher: the events go to
// o.ReceiverURLs over the data-bridge binary or Thrift transport (as 3.x
// stream events) or over HTTP, the way a gateway's agent sends them.
//
// Unlike a gateway, the simulator waits for room in the publisher's
// queue rather than dropping events, so a run as fast as possible is
// paced by the receivers and its counts are exact.
func runPublisher(ctx context.Context, o RunOptions) (Stats, error) {
	switch {
	case o.Logs != nil:
		return Stats{}, errors.New("log lines go to URL/api/v1/logs: they cannot go with receiver URLs")
	case o.Token != "":
		return Stats{}, errors.New("the publisher logs in with a user and password, not a token")
	}
	p, err := publisher.New(publisher.Options{
		ReceiverURLs:  o.ReceiverURLs,
		AuthURLs:      o.AuthURLs,
		User:          o.User,
		Password:      o.Password,
		Transport:     o.Transport,
		TLSConfig:     o.TLSConfig,
		BatchSize:     o.BatchSize,
		BlockWhenFull: true,
		Logger:        o.Logger,
	})
	if err != nil {
		return Stats{}, fmt.Errorf("receiver URLs: %w", err)
	}
	start := time.Now()
	stop := progress(o.Progress, false, func() Stats { return publisherStats(p, -1, start) })
	made := generate(ctx, o, p)
	// Whatever is queued still goes out; a stopped run gives the
	// receivers a few seconds more, as a gateway shutting down would.
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	if ctx.Err() != nil {
		closeCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	}
	defer cancel()
	closeErr := p.Close(closeCtx)
	st := publisherStats(p, made, start)
	stop(st)
	if closeErr != nil && ctx.Err() == nil {
		return st, closeErr
	}
	return st, nil
}

// generate makes the events of the run and publishes them, at o.Rate or
// as fast as the publisher takes them, until the count or the duration is
// reached or ctx is done; it returns how many it published.
func generate(ctx context.Context, o RunOptions, p *publisher.Publisher) int64 {
	g := NewGenerator(o.Options)
	clock := newClock(o)
	start := clock.start
	var made int64
	done := func(now time.Time) bool {
		return (o.Count > 0 && made >= o.Count) || (o.Duration > 0 && now.Sub(start) >= o.Duration)
	}
	buf := make([]apilens.Event, 0, o.BatchSize)
	for ctx.Err() == nil {
		now := time.Now()
		if done(now) {
			break
		}
		want := int64(o.BatchSize)
		if o.Count > 0 {
			want = min(want, o.Count-made)
		}
		if o.Rate > 0 {
			due := int64(now.Sub(start).Seconds()*o.Rate) + 1
			if o.Duration > 0 {
				due = min(due, int64(o.Duration.Seconds()*o.Rate))
			}
			if want = min(want, due-made); want <= 0 {
				// Not before the next event is due, nor in steps so short
				// that waking up costs more than the events do.
				next := start.Add(time.Duration(float64(made) / o.Rate * float64(time.Second)))
				if t := time.Now().Add(5 * time.Millisecond); next.Before(t) {
					next = t
				}
				if t := start.Add(o.Duration); o.Duration > 0 && t.Before(next) {
					next = t
				}
				sleepUntil(ctx, next)
				continue
			}
		}
		buf = buf[:0]
		for range want {
			var ts time.Time
			if o.Rate > 0 {
				ts = clock.scheduled(made)
			} else {
				ts = clock.next()
			}
			buf = append(buf, apilens.Event{})
			g.Next(&buf[len(buf)-1], ts)
			made++
		}
		if err := p.Publish(ctx, buf...); err != nil {
			// Only ctx ends a blocking Publish: the run was stopped.
			return made - int64(len(buf))
		}
	}
	return made
}

// publisherStats turns the publisher's counters into a run's. With
// several groups, an event counts as sent once every group has it: the
// least any group acknowledged. made < 0 means the run is not over, and
// nothing counts as unsent yet.
func publisherStats(p *publisher.Publisher, made int64, start time.Time) Stats {
	var st Stats
	for i, g := range p.Stats() {
		if i == 0 || g.Sent < st.Sent {
			st.Sent = g.Sent
		}
		st.Rejected = max(st.Rejected, g.Rejected)
		st.Retried += g.Retries
		st.Batches = max(st.Batches, g.Batches)
	}
	st.Accepted = st.Sent
	st.Sent += st.Rejected
	if made >= 0 {
		st.Unsent = max(made-st.Sent, 0)
	}
	st.Elapsed = time.Since(start)
	return st
}
