package databridge

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/apilens/apilens"
)

// The kinds of error a Core returns; transports map each to the exception
// the agent expects (errors.Is), and every other error to a generic one.
var (
	// ErrSessionExpired: the session id is unknown or its 30 minutes are
	// up; the agent logs in again and retries once.
	ErrSessionExpired = errors.New("session expired or unknown")
	// ErrUndefinedStream: an event names a stream no definition has; the
	// agent drops the batch.
	ErrUndefinedStream = errors.New("undefined stream")
	// ErrAuthentication: wrong credentials, or an account that may not
	// publish.
	ErrAuthentication = errors.New("authentication failed")
)

// SessionTTL is how long a session lasts after login, as the data-bridge
// does; it does not slide with use.
const SessionTTL = 30 * time.Minute

// EventSink makes encoded apilens events durable: *ingest.Pipeline.
type EventSink interface {
	// Submit returns once the n events, encoded one after the other by
	// apilens.AppendEvent, are durable.
	Submit(ctx context.Context, principal, key string, events []byte, n int) (duplicate bool, err error)
}

// AuthFunc checks a user name and password and returns the account.
type AuthFunc func(ctx context.Context, user, password string) (*apilens.User, error)

// CoreOptions configure a Core.
type CoreOptions struct {
	Auth   AuthFunc
	Events EventSink
	// Logs stores the records of the loganalyzer stream (LogIngester.Records
	// without its key); nil drops them.
	Logs func(ctx context.Context, recs []apilens.LogRecord) error
	// Registry holds the stream definitions; nil means NewRegistry().
	Registry *Registry
	Logger   *slog.Logger
	// Now is the clock of session expiry; nil means time.Now.
	Now func() time.Time
}

// Core is the protocol-independent receiver every data-bridge transport
// uses: sessions (shared by all listeners, so a login on the TLS auth port
// serves publishes on the plain port), stream definitions, and publishing
// into the ingest pipeline. It is safe for concurrent use.
type Core struct {
	opts CoreOptions
	log  *slog.Logger
	reg  *Registry

	mu        sync.Mutex
	sessions  map[string]*Session
	nextSweep time.Time

	// logged remembers the streams whose undefined or ignored events were
	// logged, so each is logged once (up to maxLogged streams, so that a
	// client inventing stream ids cannot grow it without bound).
	loggedMu sync.Mutex
	logged   map[string]bool
}

const maxLogged = 1000

// Session is a logged-in publisher.
type Session struct {
	ID      string
	User    *apilens.User
	Expires time.Time
}

// NewCore returns a Core.
func NewCore(o CoreOptions) *Core {
	if o.Registry == nil {
		o.Registry = NewRegistry()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Core{
		opts: o, log: o.Logger.With("component", "databridge"), reg: o.Registry,
		sessions: make(map[string]*Session), logged: make(map[string]bool),
	}
}

// Registry returns the stream definitions the Core decodes with.
func (c *Core) Registry() *Registry { return c.reg }

// Logger returns the Core's logger (component=databridge), for transports.
func (c *Core) Logger() *slog.Logger { return c.log }

// Login checks the credentials and opens a session: a publisher or admin
// account, as for the HTTP API. A failure is logged with the user name and
// returns an error wrapping ErrAuthentication; no session is made.
func (c *Core) Login(ctx context.Context, user, password string) (string, error) {
	u, err := c.opts.Auth(ctx, user, password)
	if err != nil {
		if code := apilens.ErrorCode(err); code != apilens.EUNAUTHORIZED && code != apilens.ENOTFOUND {
			// The user store failed: not the client's fault.
			c.log.Error("login: cannot check credentials", "user", user, "err", err)
			return "", fmt.Errorf("check credentials of %q: %w", user, err)
		}
		c.log.Warn("login failed: wrong user name or password", "user", user)
		return "", fmt.Errorf("%w: wrong user name or password for %q", ErrAuthentication, user)
	}
	if !u.HasRole(apilens.RoleAdmin) && !u.HasRole(apilens.RolePublisher) {
		c.log.Warn("login failed: the account may not publish", "user", user)
		return "", fmt.Errorf("%w: user %q may not publish (needs the %s or %s role)",
			ErrAuthentication, user, apilens.RolePublisher, apilens.RoleAdmin)
	}
	id := newUUID()
	now := c.opts.Now()
	c.mu.Lock()
	if now.After(c.nextSweep) {
		for k, s := range c.sessions {
			if now.After(s.Expires) {
				delete(c.sessions, k)
			}
		}
		c.nextSweep = now.Add(time.Minute)
	}
	c.sessions[id] = &Session{ID: id, User: u, Expires: now.Add(SessionTTL)}
	c.mu.Unlock()
	c.log.Info(fmt.Sprintf("user %s connected", u.Name), "user", u.Name)
	return id, nil
}

// Logout ends a session; an unknown one is not an error.
func (c *Core) Logout(sessionID string) {
	c.mu.Lock()
	s := c.sessions[sessionID]
	delete(c.sessions, sessionID)
	c.mu.Unlock()
	if s != nil {
		c.log.Info(fmt.Sprintf("user %s disconnected", s.User.Name), "user", s.User.Name)
	}
}

// Session returns the live session with the id, or an error wrapping
// ErrSessionExpired.
func (c *Core) Session(sessionID string) (*Session, error) {
	now := c.opts.Now()
	c.mu.Lock()
	s := c.sessions[sessionID]
	if s != nil && now.After(s.Expires) {
		delete(c.sessions, sessionID)
		s = nil
	}
	c.mu.Unlock()
	if s == nil {
		return nil, fmt.Errorf("%w: %q", ErrSessionExpired, sessionID)
	}
	return s, nil
}

// Publish converts events and makes them durable under the session's
// user: API events through the pipeline, log records into the log store.
// It returns once they are durable, so an OK answer after it means the
// events survive a crash. An event of an undefined stream fails the whole
// batch, before anything is kept (ErrUndefinedStream): the agent drops
// the batch on that answer, so keeping part of it would be invisible to it
// either way, and an all-or-nothing batch is simpler to reason about.
func (c *Core) Publish(ctx context.Context, sessionID string, events []Event) error {
	s, err := c.Session(sessionID)
	if err != nil {
		return err
	}
	b := getBatch()
	defer putBatch(b)
	for i := range events {
		ev := &events[i]
		def := c.reg.Lookup(ev.StreamID)
		if def == nil {
			return c.undefined(ev.StreamID)
		}
		p := def.plan
		b.conv.reset(p.kind)
		if err := b.conv.values(def, p, ev); err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		b.end(c, def, ev.Timestamp)
	}
	return c.commit(ctx, s, b)
}

// undefined returns the error of an event of an undefined stream, logging
// it the first time the stream is seen.
func (c *Core) undefined(id string) error {
	if c.once("undefined:" + id) {
		c.log.Warn("events of an undefined stream: their batches are refused", "stream", id)
	}
	return fmt.Errorf("%w: no definition of stream %q", ErrUndefinedStream, id)
}

// once reports whether key is new, remembering it.
func (c *Core) once(key string) bool {
	c.loggedMu.Lock()
	defer c.loggedMu.Unlock()
	if c.logged[key] || len(c.logged) >= maxLogged {
		return false
	}
	c.logged[key] = true
	return true
}

// batch gathers the converted events of one publish request: API events
// already encoded for the pipeline, log records, and a count of events
// dropped as carrying no API call.
type batch struct {
	events []byte
	n      int
	logs   []apilens.LogRecord
	conv   converter
}

var batches = sync.Pool{New: func() any { return &batch{events: make([]byte, 0, 64<<10)} }}

func getBatch() *batch { return batches.Get().(*batch) }

func putBatch(b *batch) {
	if cap(b.events) > 16<<20 {
		return
	}
	b.events, b.n = b.events[:0], 0
	clear(b.logs)
	b.logs = b.logs[:0]
	batches.Put(b)
}

// end completes the event whose values were fed to b.conv.
func (b *batch) end(c *Core, def *StreamDef, stamp int64) {
	switch k := def.plan.kind; k {
	case kindIgnored:
		if c.once("ignored:" + def.ID()) {
			c.log.Info("events of this stream carry no API call: accepted and dropped", "stream", def.ID())
		}
	case kindLog:
		b.logs = append(b.logs, *b.conv.finishLog(stamp))
	default:
		b.conv.finishEvent(k, stamp)
		b.events = apilens.AppendEvent(b.events, &b.conv.ev)
		b.n++
	}
}

// commit makes b durable: events first, then log records.
func (c *Core) commit(ctx context.Context, s *Session, b *batch) error {
	if b.n > 0 {
		// No idempotency key: the data-bridge has none, and the agent
		// resends a batch only when it was not acknowledged.
		if _, err := c.opts.Events.Submit(ctx, s.User.Name, "", b.events, b.n); err != nil {
			return fmt.Errorf("submit %d events of %s: %w", b.n, s.User.Name, err)
		}
	}
	if len(b.logs) > 0 && c.opts.Logs != nil {
		if err := c.opts.Logs(ctx, b.logs); err != nil {
			return fmt.Errorf("store %d log records of %s: %w", len(b.logs), s.User.Name, err)
		}
	}
	return nil
}

// newUUID returns a random (version 4) UUID, 36 characters.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, x := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[x>>4], hex[x&0x0f])
	}
	return string(out)
}
