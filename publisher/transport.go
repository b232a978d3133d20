package publisher

import (
	"context"
	crand "crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/databridge"
)

// transport connects to the endpoints of one protocol.
type transport interface {
	// dial connects to a receiver and logs in (on its auth endpoint,
	// where the protocol has one).
	dial(ctx context.Context, recv, auth Endpoint) (conn, error)
}

// conn is a logged-in connection to one receiver, used by one sender.
type conn interface {
	// publish sends b and returns once the receiver acknowledged it,
	// with the number of its events the receiver rejected one by one.
	// Errors wrap errSessionExpired, errRejected or errAuthentication,
	// or are a *busyError, when they are one of those.
	publish(ctx context.Context, b *batch) (rejected int, err error)
	// relogin opens a new session after errSessionExpired.
	relogin(ctx context.Context) error
	// close ends the connection, logging out first if logout is set.
	close(ctx context.Context, logout bool)
}

// The kinds of publish error the sender acts on (REFERENCE §1).
var (
	// errSessionExpired: log in again and retry once.
	errSessionExpired = errors.New("session expired")
	// errRejected: the receiver will never take this batch (an undefined
	// stream); it is dropped rather than re-routed.
	errRejected = errors.New("batch refused")
	// errAuthentication: wrong credentials; the endpoint is unavailable
	// until its next reconnection.
	errAuthentication = errors.New("authentication failed")
)

// busyError is back-pressure: the receiver asks to be tried again later.
type busyError struct {
	after time.Duration
	err   error
}

func (e *busyError) Error() string { return e.err.Error() }
func (e *busyError) Unwrap() error { return e.err }

// batch is what a sender delivers: its events, and what transports make
// of them once and reuse on every attempt.
type batch struct {
	events []apilens.Event
	// key identifies the batch to the HTTP API, the same on every
	// attempt, so that a retry after a lost answer counts once.
	key string
	// body is the batch as NDJSON (http), stream the 3.x events
	// (binary, thrift); each made by the first attempt that needs it.
	body   []byte
	stream []databridge.Event
	nconv  int // events of stream converted
}

func (b *batch) reset() {
	b.events, b.body, b.nconv = b.events[:0], b.body[:0], 0
}

// streamEvents returns the batch as 3.x events, converting it the first
// time.
func (b *batch) streamEvents(s *streams) []databridge.Event {
	if b.nconv == len(b.events) {
		return b.stream[:b.nconv]
	}
	for len(b.stream) < len(b.events) {
		b.stream = append(b.stream, databridge.Event{})
	}
	for i := range b.events {
		s.convert(&b.events[i], &b.stream[i])
	}
	b.nconv = len(b.events)
	return b.stream[:b.nconv]
}

// runID makes the HTTP idempotency keys of this process unique.
var runID = func() string {
	var b [8]byte
	_, _ = crand.Read(b[:]) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b[:])
}()

func newTransport(o Options) (transport, error) {
	switch o.Transport {
	case HTTP:
		return newHTTPTransport(o), nil
	case Binary:
		s, err := newStreams()
		if err != nil {
			return nil, err
		}
		return &binaryTransport{o: o, streams: s}, nil
	case Thrift:
		s, err := newStreams()
		if err != nil {
			return nil, err
		}
		return &thriftTransport{o: o, streams: s}, nil
	}
	return nil, fmt.Errorf("unknown transport %q", o.Transport)
}

// dialSocket opens a TCP or TLS connection to e within the socket
// timeout.
func dialSocket(ctx context.Context, o Options, e Endpoint) (net.Conn, error) {
	d := &net.Dialer{Timeout: o.SocketTimeout, KeepAlive: 30 * time.Second}
	if !e.Secure() {
		c, err := d.DialContext(ctx, "tcp", e.Addr())
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", e, err)
		}
		return c, nil
	}
	td := &tls.Dialer{NetDialer: d, Config: o.TLSConfig}
	c, err := td.DialContext(ctx, "tcp", e.Addr())
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", e, err)
	}
	return c, nil
}

// deadline sets c's deadline to the socket timeout, and to now when ctx
// ends so that a blocked read or write returns; stop undoes the latter.
func deadline(ctx context.Context, o Options, c net.Conn) (stop func() bool) {
	_ = c.SetDeadline(time.Now().Add(o.SocketTimeout))
	return context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
}
