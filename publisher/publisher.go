package publisher

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apilens/apilens"
)

// The transports, for Options.Transport.
const (
	// Binary is the data-bridge binary transport (REFERENCE §1): tcp:// and
	// ssl:// receiver URLs, login on the auth URL.
	Binary = "binary"
	// Thrift is the data-bridge Thrift transport, what a stock API-M 3.x
	// gateway speaks: tcp:// and ssl:// receiver URLs, connect on the auth
	// URL.
	Thrift = "thrift"
	// HTTP posts the 4.x JSON to apilens's /api/v1/events: http:// and
	// https:// receiver URLs, Basic auth, no auth URLs.
	HTTP = "http"
)

// ErrClosed is returned by Publish after Close.
var ErrClosed = errors.New("publisher closed")

// Options configure a Publisher. Zero values mean the defaults, which are
// those of the WSO2 data agent (REFERENCE §11).
type Options struct {
	// ReceiverURLs is the receiver_urls value (see ParseReceiverURLs).
	ReceiverURLs string
	// AuthURLs is the auth_urls value (see ParseAuthURLs); empty means
	// ssl://host:(port+100) for each receiver URL. The http transport has
	// none.
	AuthURLs string
	// User and Password are the publisher account.
	User, Password string
	// Transport is Binary, Thrift or HTTP; empty means HTTP when the
	// receiver URLs are http:// or https://, Binary otherwise.
	Transport string
	// TLSConfig is used for ssl:// and https:// URLs; nil means the
	// system's roots. Its ServerName, when empty, is each URL's host.
	TLSConfig *tls.Config
	// QueueSize bounds the events waiting in each group; default 32768.
	QueueSize int
	// BatchSize is the most events sent in one request; default 200.
	BatchSize int
	// SocketTimeout bounds connecting and each request; default 30 s.
	SocketTimeout time.Duration
	// ReconnectInterval is how long an endpoint that failed is left alone
	// before it is tried again, doubling for each failure in a row up to
	// four times as long; default 30 s.
	ReconnectInterval time.Duration
	// BlockWhenFull makes Publish wait for room in a full queue instead
	// of dropping events. A gateway must not wait for its analytics, so
	// the agent drops; a load generator wants to be paced by the
	// receivers instead.
	BlockWhenFull bool
	// HTTPClient makes the http transport's requests; default a client
	// with TLSConfig and no timeout of its own (SocketTimeout bounds each
	// request).
	HTTPClient *http.Client
	// Logger gets the publisher's warnings (component=publisher); default
	// slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.QueueSize <= 0 {
		o.QueueSize = 32768
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 200
	}
	if o.SocketTimeout <= 0 {
		o.SocketTimeout = 30 * time.Second
	}
	if o.ReconnectInterval <= 0 {
		o.ReconnectInterval = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Publisher sends events to every group of its receiver URLs. Publish
// queues them and returns; a sender per group batches them and delivers
// each batch to one endpoint of its group. It is safe for concurrent use.
type Publisher struct {
	opts   Options
	log    *slog.Logger
	groups []*group

	// mu orders Publish against Close: no event is queued once the
	// senders may have drained their queues for the last time.
	mu      sync.RWMutex
	closed  bool
	closing chan struct{} // closed when Close begins: blocked publishers give up

	// abortCtx ends when Close runs out of time: senders stop waiting for
	// receivers and in-flight requests are cut short.
	abortCtx context.Context
	abort    context.CancelFunc

	closeOnce sync.Once
	wg        sync.WaitGroup
}

// New checks the options, parses the URLs and starts a sender per group.
// It connects to nothing: each sender connects when it has a batch.
func New(o Options) (*Publisher, error) {
	o = o.withDefaults()
	receivers, err := ParseReceiverURLs(o.ReceiverURLs)
	if err != nil {
		return nil, err
	}
	if o.Transport == "" {
		o.Transport = Binary
		if s := receivers[0].Endpoints[0].Scheme; s == "http" || s == "https" {
			o.Transport = HTTP
		}
	}
	var auth []Group
	switch o.Transport {
	case Binary, Thrift:
		if err := checkSchemes(receivers, o.Transport, "tcp", "ssl"); err != nil {
			return nil, err
		}
		if o.AuthURLs == "" {
			auth, err = DeriveAuthURLs(receivers)
		} else {
			auth, err = ParseAuthURLs(o.AuthURLs, receivers)
		}
		if err != nil {
			return nil, err
		}
		if err := checkSchemes(auth, o.Transport, "tcp", "ssl"); err != nil {
			return nil, fmt.Errorf("auth URLs: %w", err)
		}
		if o.Transport == Thrift {
			// The Thrift auth service is the secure one: TLS only.
			if err := checkSchemes(auth, o.Transport, "ssl"); err != nil {
				return nil, fmt.Errorf("auth URLs: %w", err)
			}
		}
	case HTTP:
		if err := checkSchemes(receivers, o.Transport, "http", "https"); err != nil {
			return nil, err
		}
		if o.AuthURLs != "" {
			return nil, errors.New("auth URLs: the http transport has none (it authenticates each request)")
		}
	default:
		return nil, fmt.Errorf("unknown transport %q: want %s, %s or %s", o.Transport, Binary, Thrift, HTTP)
	}
	tr, err := newTransport(o)
	if err != nil {
		return nil, err
	}
	p := &Publisher{opts: o, log: o.Logger.With("component", "publisher"), closing: make(chan struct{})}
	p.abortCtx, p.abort = context.WithCancel(context.Background())
	for i, g := range receivers {
		grp := &group{p: p, tr: tr, index: i, policy: g.Policy, name: g.String(), q: newQueue(o.QueueSize)}
		for j, e := range g.Endpoints {
			ep := &endpoint{recv: e}
			if auth != nil {
				ep.auth = auth[i].Endpoints[j]
			}
			grp.eps = append(grp.eps, ep)
		}
		p.groups = append(p.groups, grp)
	}
	for _, g := range p.groups {
		p.wg.Go(g.run)
	}
	return p, nil
}

// checkSchemes makes sure every URL of groups suits the transport.
func checkSchemes(groups []Group, transport string, schemes ...string) error {
	for _, g := range groups {
		for _, e := range g.Endpoints {
			if !slices.Contains(schemes, e.Scheme) {
				return fmt.Errorf("%s: the %s transport takes %s:// URLs", e, transport, strings.Join(schemes, ":// and "))
			}
		}
	}
	return nil
}

// Transport returns the transport the publisher speaks.
func (p *Publisher) Transport() string { return p.opts.Transport }

// Publish queues events for every group and returns without waiting for
// them to be sent. When a group's queue is full, the events that do not
// fit are dropped, counted and logged (at most every ten seconds), unless
// Options.BlockWhenFull makes Publish wait for room, until ctx is done.
// The events are copied; their Properties are not, and must not change
// afterwards. Publish returns ErrClosed after Close.
func (p *Publisher) Publish(ctx context.Context, events ...apilens.Event) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	for _, g := range p.groups {
		rest := events
		for {
			rest = rest[g.q.push(rest):]
			if len(rest) == 0 {
				break
			}
			if !p.opts.BlockWhenFull {
				g.drop(len(rest))
				break
			}
			select {
			case <-g.q.space:
			case <-ctx.Done():
				return fmt.Errorf("publish: waiting for room in the queue of %s: %w", g.name, ctx.Err())
			case <-p.closing:
				return ErrClosed
			}
		}
	}
	return nil
}

// Close stops accepting events and delivers those queued, until ctx is
// done; then it gives up on the rest, which count as dropped. Connections
// are logged out and closed. It returns an error that counts the events
// not delivered, if any.
func (p *Publisher) Close(ctx context.Context) error {
	p.closeOnce.Do(func() {
		close(p.closing)
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		for _, g := range p.groups {
			g.q.close()
		}
	})
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		p.abort()
		<-done
	}
	var lost int64
	for _, g := range p.groups {
		lost += g.abandoned.Load()
		g.logDrops(true)
	}
	if lost > 0 {
		return fmt.Errorf("close publisher: %d events not delivered: %w", lost, context.Cause(ctx))
	}
	return nil
}

// GroupStats are the counters of one group.
type GroupStats struct {
	// URLs is the group, written as in receiver_urls.
	URLs string
	// Sent counts the events the receivers acknowledged.
	Sent int64
	// Dropped counts the events that found the queue full, and those
	// still queued or in flight when Close gave up.
	Dropped int64
	// Rejected counts the events a receiver refused: a batch of an
	// undefined stream, or the events the HTTP API rejected.
	Rejected int64
	// Retries counts the attempts to send a batch after its first.
	Retries int64
	// Batches counts the batches delivered.
	Batches int64
	// Queued is the number of events waiting now.
	Queued int
}

// Stats returns the counters of each group, in the order of the receiver
// URLs.
func (p *Publisher) Stats() []GroupStats {
	out := make([]GroupStats, len(p.groups))
	for i, g := range p.groups {
		out[i] = GroupStats{
			URLs:     g.name,
			Sent:     g.sent.Load(),
			Dropped:  g.dropped.Load(),
			Rejected: g.rejected.Load(),
			Retries:  g.retries.Load(),
			Batches:  g.batches.Load(),
			Queued:   g.q.len(),
		}
	}
	return out
}

// dropLogEvery rate-limits the warning about a full queue: a gateway
// whose receivers are all down would otherwise log for every request.
const dropLogEvery = 10 * time.Second

// group is one `{…}` of the receiver URLs: its queue, endpoints and
// counters. Only its sender touches the endpoints.
type group struct {
	p      *Publisher
	tr     transport
	index  int
	name   string
	policy Policy
	eps    []*endpoint
	rr     int // the endpoint after the last one a load-balanced batch went to
	q      *queue
	seq    int64 // batches made, for their idempotency keys

	sent, dropped, rejected, retries, batches atomic.Int64
	abandoned                                 atomic.Int64 // dropped by Close

	dropMu    sync.Mutex
	dropLogAt time.Time
	unlogged  int64 // drops since the last warning
}

// endpoint is one receiver URL of a group, with its auth URL.
type endpoint struct {
	recv, auth Endpoint
	conn       conn      // nil until connected, and after a failure
	downUntil  time.Time // not tried before
	failures   int       // in a row
}

// drop counts n events that found the queue full.
func (g *group) drop(n int) {
	g.dropped.Add(int64(n))
	g.dropMu.Lock()
	g.unlogged += int64(n)
	g.dropMu.Unlock()
	g.logDrops(false)
}

// logDrops logs the drops not logged yet: at once if final, else at most
// every dropLogEvery.
func (g *group) logDrops(final bool) {
	g.dropMu.Lock()
	defer g.dropMu.Unlock()
	if g.unlogged == 0 || (!final && time.Since(g.dropLogAt) < dropLogEvery) {
		return
	}
	g.p.log.Warn("receivers not keeping up: events dropped", "group", g.name, "dropped", g.unlogged,
		"dropped_total", g.dropped.Load(), "queue_size", g.p.opts.QueueSize)
	g.unlogged, g.dropLogAt = 0, time.Now()
}

// run is the group's sender: it takes batches off the queue and delivers
// them until Close, then drains the queue.
func (g *group) run() {
	o := g.p.opts
	b := &batch{}
	defer g.closeConns()
	for {
		var closed bool
		b.reset()
		b.events, closed = g.q.take(b.events[:0], o.BatchSize)
		if len(b.events) == 0 {
			if closed {
				return
			}
			select {
			case <-g.q.ready:
			case <-g.p.abortCtx.Done():
			}
			continue
		}
		if g.p.abortCtx.Err() != nil || !g.deliver(b) {
			// Close gave up: this batch and whatever is queued are lost.
			n := int64(len(b.events)) + int64(g.q.discard())
			g.abandoned.Add(n)
			g.dropped.Add(n)
			return
		}
	}
}

// deliver sends b to an endpoint of the group, re-routing it until one
// takes it. It reports false only when Close gave up.
func (g *group) deliver(b *batch) bool {
	ctx := g.p.abortCtx
	g.seq++
	b.key = fmt.Sprintf("%s-%d-%d", runID, g.index, g.seq)
	var (
		again    *endpoint // where the retry after a new login goes
		relogged bool
		attempts int
	)
	for {
		ep := again
		again = nil
		if ep == nil {
			var wait time.Duration
			if ep, wait = g.pick(time.Now()); ep == nil {
				if !sleep(ctx, wait) {
					return false
				}
				continue
			}
		}
		if ep.conn == nil {
			c, err := g.tr.dial(ctx, ep.recv, ep.auth)
			if err != nil {
				if ctx.Err() != nil {
					return false
				}
				g.down(ep, fmt.Errorf("connect: %w", err))
				continue
			}
			ep.conn = c
			if ep.failures > 0 {
				g.p.log.Info("receiver available again", "group", g.name, "endpoint", ep.recv.String())
			}
		}
		attempts++
		if attempts > 1 {
			g.retries.Add(1)
		}
		rejected, err := ep.conn.publish(ctx, b)
		switch {
		case err == nil:
			ep.failures = 0
			g.sent.Add(int64(len(b.events) - rejected))
			g.rejected.Add(int64(rejected))
			g.batches.Add(1)
			return true
		case ctx.Err() != nil:
			return false
		case errors.Is(err, errSessionExpired) && !relogged:
			relogged = true
			if err := ep.conn.relogin(ctx); err != nil {
				g.down(ep, fmt.Errorf("log in again after the session expired: %w", err))
				continue
			}
			again = ep
		case errors.Is(err, errRejected):
			g.rejected.Add(int64(len(b.events)))
			g.p.log.Warn("receiver refused a batch: dropped", "group", g.name, "endpoint", ep.recv.String(),
				"events", len(b.events), "err", err)
			return true
		default:
			var busy *busyError
			if errors.As(err, &busy) {
				// Back-pressure, not a failure: the endpoint stays
				// connected and is tried again when it asked to be.
				ep.downUntil = time.Now().Add(busy.after)
				g.p.log.Debug("receiver busy", "group", g.name, "endpoint", ep.recv.String(), "retry_in", busy.after)
				continue
			}
			g.down(ep, err)
		}
	}
}

// pick returns the endpoint the next attempt goes to, by the group's
// policy, or nil and how long until one may be tried again.
func (g *group) pick(now time.Time) (*endpoint, time.Duration) {
	start := 0
	if g.policy == LoadBalance {
		start = g.rr
	}
	wait := time.Duration(-1)
	for i := range g.eps {
		k := (start + i) % len(g.eps)
		ep := g.eps[k]
		if !now.Before(ep.downUntil) {
			if g.policy == LoadBalance {
				g.rr = (k + 1) % len(g.eps)
			}
			return ep, 0
		}
		if d := ep.downUntil.Sub(now); wait < 0 || d < wait {
			wait = d
		}
	}
	return nil, wait
}

// down marks ep unavailable after err: it is left alone for the
// reconnect interval, doubled for each failure in a row up to four times.
func (g *group) down(ep *endpoint, err error) {
	ep.failures++
	d := g.p.opts.ReconnectInterval << min(ep.failures-1, 2)
	ep.downUntil = time.Now().Add(d)
	if ep.conn != nil {
		ep.conn.close(context.Background(), false)
		ep.conn = nil
	}
	level := slog.LevelWarn
	if ep.failures > 1 {
		// Still down: worth a line, not a warning each time.
		level = slog.LevelInfo
	}
	g.p.log.Log(context.Background(), level, "receiver unavailable", "group", g.name, "endpoint", ep.recv.String(),
		"err", err, "retry_in", d, "failures", ep.failures)
}

// closeConns logs out of and closes the group's connections.
func (g *group) closeConns() {
	for _, ep := range g.eps {
		if ep.conn == nil {
			continue
		}
		logout := g.p.abortCtx.Err() == nil
		ctx, cancel := context.WithTimeout(context.Background(), min(g.p.opts.SocketTimeout, 5*time.Second))
		ep.conn.close(ctx, logout)
		cancel()
		ep.conn = nil
	}
}

// sleep waits d, or less if ctx ends first (it then reports false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
