package databridge

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// BinaryOptions configure a BinaryServer.
type BinaryOptions struct {
	// Addr is the plain TCP listener's address; "" disables it.
	Addr string
	// TLSAddr is the TLS listener's address; "" disables it.
	TLSAddr string
	// TLSConfig is required when TLSAddr is set.
	TLSConfig *tls.Config
	Limits    Limits
	// FrameTimeout bounds the time from a frame's first byte to its last,
	// so a stalled sender cannot hold a connection mid-frame forever;
	// default 2 minutes. Between frames there is no limit: the agent keeps
	// pooled sockets idle for long periods.
	FrameTimeout time.Duration
}

// BinaryServer is the data-bridge binary transport: a plain and a TLS
// listener sharing one Core, so a session opened on one serves the other.
// Each connection has its own goroutine and gets exactly one response per
// frame, in order.
type BinaryServer struct {
	core *Core
	opts BinaryOptions
	log  *slog.Logger

	listeners []net.Listener
	wg        sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	ctx    context.Context
	cancel context.CancelFunc
}

// NewBinaryServer returns a BinaryServer; Open starts it.
func NewBinaryServer(core *Core, o BinaryOptions) *BinaryServer {
	o.Limits = o.Limits.withDefaults()
	if o.FrameTimeout <= 0 {
		o.FrameTimeout = 2 * time.Minute
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &BinaryServer{core: core, opts: o, log: core.log.With("transport", "binary"),
		conns: make(map[net.Conn]struct{}), ctx: ctx, cancel: cancel}
}

// Open binds the listeners and starts serving.
func (s *BinaryServer) Open() error {
	if s.opts.TLSAddr != "" && s.opts.TLSConfig == nil {
		return errors.New("binary transport: a TLS address without a TLS configuration")
	}
	for _, l := range []struct {
		addr string
		tls  bool
	}{{s.opts.Addr, false}, {s.opts.TLSAddr, true}} {
		if l.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			s.Close()
			return fmt.Errorf("binary transport: listen on %s: %w", l.addr, err)
		}
		if l.tls {
			ln = tls.NewListener(ln, s.opts.TLSConfig)
		}
		s.listeners = append(s.listeners, ln)
		s.log.Info("data-bridge binary receiver listening", "addr", ln.Addr().String(), "tls", l.tls)
		s.wg.Add(1)
		go s.serve(ln)
	}
	return nil
}

// Addr returns the plain listener's address, nil when it is disabled.
func (s *BinaryServer) Addr() net.Addr { return s.addr(false) }

// TLSAddr returns the TLS listener's address, nil when it is disabled.
func (s *BinaryServer) TLSAddr() net.Addr { return s.addr(true) }

func (s *BinaryServer) addr(secure bool) net.Addr {
	i := 0
	for _, l := range []struct {
		addr string
		tls  bool
	}{{s.opts.Addr, false}, {s.opts.TLSAddr, true}} {
		if l.addr == "" {
			continue
		}
		if i >= len(s.listeners) {
			return nil
		}
		if l.tls == secure {
			return s.listeners[i].Addr()
		}
		i++
	}
	return nil
}

// Close stops accepting, closes the connections and waits for their
// goroutines; a publish being made durable completes first.
func (s *BinaryServer) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	var errs []error
	for _, ln := range s.listeners {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	s.mu.Lock()
	for c := range s.conns {
		// Unblocks a connection waiting for its next frame; one in the
		// middle of a publish finishes it, then fails to answer.
		c.SetReadDeadline(time.Now())
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.cancel()
	return errors.Join(errs...)
}

func (s *BinaryServer) serve(ln net.Listener) {
	defer s.wg.Done()
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off, as net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Error("accept failed; retrying", "addr", ln.Addr().String(), "err", err, "retry_in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.handle(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

// conn is one client connection's state.
type conn struct {
	c    net.Conn
	br   *bufio.Reader
	body []byte
	out  []byte
	// frames counts the frames received, so a connection closed without
	// any (the agent's health probe) is not worth a log line.
	frames int
}

func (s *BinaryServer) handle(c net.Conn) {
	cn := &conn{c: c, br: bufio.NewReaderSize(c, 64<<10)}
	remote := c.RemoteAddr().String()
	for {
		t, err := s.readFrame(cn)
		if err != nil {
			s.readFailed(cn, remote, err)
			return
		}
		cn.frames++
		cn.out = cn.out[:0]
		bad := false
		switch t {
		case FrameLogin:
			cn.out, bad = s.login(cn.out, cn.body, remote)
		case FrameLogout:
			r := newFrameReader(cn.body, true)
			sid := r.str("session id")
			if r.err == nil && len(r.buf) > 0 {
				r.fail("%d bytes after the session id", len(r.buf))
			}
			if bad = r.err != nil; bad {
				cn.out = s.errorResponse(cn.out, r.err, remote)
			} else {
				s.core.Logout(sid)
				cn.out = AppendOKResponse(cn.out)
			}
		case FramePublish:
			if err := s.core.publishBinary(s.ctx, cn.body, s.opts.Limits); err != nil {
				bad = errors.Is(err, errFrame)
				cn.out = s.errorResponse(cn.out, err, remote)
			} else {
				cn.out = AppendOKResponse(cn.out)
			}
		}
		if _, err := c.Write(cn.out); err != nil {
			s.log.Debug("cannot answer; closing", "remote", remote, "err", err)
			return
		}
		if bad {
			// After a malformed frame the stream cannot be trusted to be
			// at a frame boundary.
			return
		}
		if cap(cn.body) > 1<<20 {
			cn.body = nil // a burst's buffer is not kept by an idle connection
		}
	}
}

// readFrame reads the next frame's type and body into cn.body. Waiting for
// a frame has no deadline; once its first byte is in, the rest must come
// within FrameTimeout.
func (s *BinaryServer) readFrame(cn *conn) (FrameType, error) {
	b, err := cn.br.ReadByte()
	if err != nil {
		return 0, err
	}
	t := FrameType(b)
	if cn.br.Buffered() < 4 {
		cn.c.SetReadDeadline(time.Now().Add(s.opts.FrameTimeout))
		defer cn.c.SetReadDeadline(time.Time{})
	}
	var hdr [4]byte
	if _, err := io.ReadFull(cn.br, hdr[:]); err != nil {
		return t, fmt.Errorf("%w: truncated header: %w", errFrame, err)
	}
	n := int32(binary.BigEndian.Uint32(hdr[:]))
	if err := checkFrameHeader(t, n, s.opts.Limits); err != nil {
		return t, err
	}
	if cap(cn.body) < int(n) {
		cn.body = make([]byte, n)
	}
	cn.body = cn.body[:n]
	if cn.br.Buffered() < int(n) {
		cn.c.SetReadDeadline(time.Now().Add(s.opts.FrameTimeout))
		defer cn.c.SetReadDeadline(time.Time{})
	}
	if got, err := io.ReadFull(cn.br, cn.body); err != nil {
		return t, fmt.Errorf("%w: %s frame: %d of %d body bytes: %w", errFrame, t, got, n, err)
	}
	return t, nil
}

// readFailed handles a connection whose next frame could not be read: a
// close between frames is normal (health probes, pool shrinking, server
// shutdown); a malformed header gets its error response.
func (s *BinaryServer) readFailed(cn *conn, remote string, err error) {
	switch {
	case errors.Is(err, errFrame) && !isClosed(err):
		s.log.Warn("malformed frame; closing the connection", "remote", remote, "err", err)
		cn.c.Write(AppendErrorResponse(nil, ClassDataBridge, err.Error()))
	case errors.Is(err, errFrame):
		s.log.Warn("connection closed in the middle of a frame", "remote", remote, "err", err)
	case cn.frames == 0 || isClosed(err):
		s.log.Debug("connection closed", "remote", remote, "frames", cn.frames, "err", err)
	default:
		s.log.Warn("connection failed", "remote", remote, "err", err)
	}
}

// isClosed reports whether err is the connection ending rather than
// anything it sent.
func isClosed(err error) bool {
	var tlsErr tls.RecordHeaderError
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &tlsErr)
}

func (s *BinaryServer) login(dst, body []byte, remote string) ([]byte, bool) {
	r := newFrameReader(body, true)
	user, pass := r.login()
	if r.err == nil && len(r.buf) > 0 {
		r.fail("%d bytes after the password", len(r.buf))
	}
	if r.err != nil {
		return s.errorResponse(dst, r.err, remote), true
	}
	sid, err := s.core.Login(s.ctx, user, pass)
	if err != nil {
		return s.errorResponse(dst, err, remote), false
	}
	return AppendLoginResponse(dst, sid), false
}

// errorResponse appends the error response of err, logging what is not
// logged where it happened.
func (s *BinaryServer) errorResponse(dst []byte, err error, remote string) []byte {
	class := ErrorClass(err)
	switch {
	case errors.Is(err, errFrame):
		s.log.Warn("malformed frame; closing the connection", "remote", remote, "err", err)
	case class == ClassDataBridge:
		s.log.Error("publish failed", "remote", remote, "err", err)
	}
	return AppendErrorResponse(dst, class, err.Error())
}

// publishBinary decodes a publish frame's body straight into apilens's
// encoding and makes it durable: no value is boxed and no string copied
// until AppendEvent writes it, so the body's buffer is aliased throughout.
func (c *Core) publishBinary(ctx context.Context, body []byte, lim Limits) error {
	lim = lim.withDefaults()
	r := newFrameReader(body, true)
	sid := r.str("session id")
	if r.err != nil {
		return r.err
	}
	sess, err := c.Session(sid)
	if err != nil {
		return err
	}
	n := r.count(lim)
	b := getBatch()
	defer putBatch(b)
	defs := &memo{defs: c.reg}
	for i := 0; i < n && r.err == nil; i++ {
		var ts int64
		var id string
		var def *StreamDef
		var arb frameReader
		def, _, arb = r.event(defs, nil, &ts, &id, &b.conv)
		if errors.Is(r.err, ErrUndefinedStream) {
			return c.undefined(id)
		}
		if r.err != nil {
			return fmt.Errorf("event %d: %w", i, r.err)
		}
		if err := arb.skipArbitrary(); err != nil {
			return fmt.Errorf("event %d (%s): %w", i, id, err)
		}
		b.end(c, def, ts)
	}
	if r.err == nil && len(r.buf) != 0 {
		r.fail("%d bytes after the publish frame's %d events", len(r.buf), n)
	}
	if r.err != nil {
		return r.err
	}
	return c.commit(ctx, sess, b)
}

// memo remembers the last definition looked up: the events of a batch are
// nearly always of one stream, and the registry's lock and map cost more
// than a string comparison. It lives for one frame, whose bytes id views.
type memo struct {
	defs StreamLookup
	id   string
	def  *StreamDef
}

func (m *memo) Lookup(id string) *StreamDef {
	if m.def == nil || id != m.id {
		m.id, m.def = id, m.defs.Lookup(id)
	}
	return m.def
}
