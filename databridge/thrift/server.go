// Package thrift is the Thrift transport of the WSO2 data-bridge receiver
// (REFERENCE §1), the one a stock API-M 3.x gateway's analytics agent uses
// by default: unframed TBinaryProtocol over a plain or TLS socket, the
// ThriftSecureEventTransmissionService (connect, disconnect and the stream
// calls) on the TLS auth port and the ThriftEventTransmissionService on the
// plain port, both backed by a databridge.Core. It also has the client the
// publisher package and the tests use.
//
// The protocol code in wire/ is generated from databridge.thrift by the
// Apache Thrift compiler; the Go library it needs must have the compiler's
// major and minor version (0.17).
package thrift

//go:generate sh -c "thrift -gen go:skip_remote -out . databridge.thrift && gofmt -w wire"

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"

	athrift "github.com/apache/thrift/lib/go/thrift"

	"github.com/apilens/apilens/databridge"
	"github.com/apilens/apilens/databridge/thrift/wire"
)

// DefaultMaxMessageSize bounds one string and the element count of one list
// or map of a request. The library allocates a list's backing array from
// its declared count before reading the elements, so this also bounds what
// one malformed request can make the server allocate. A gateway's batch of
// 200 events is a few hundred kilobytes.
const DefaultMaxMessageSize = 16 << 20

// bufferSize is the read and write buffer of a connection: the binary
// protocol reads field by field, and unbuffered that is a system call each.
const bufferSize = 64 << 10

// Options configure a Server; zero values mean the defaults.
type Options struct {
	// Core checks credentials and sessions and publishes the events. Required.
	Core *databridge.Core
	// Logger gets the server's log lines (component=databridge.thrift);
	// nil means slog.Default().
	Logger *slog.Logger
	// TLSConfig is the certificate of the TLS auth port; Listen with tls set
	// needs it.
	TLSConfig *tls.Config
	// MaxMessageSize: see DefaultMaxMessageSize, used when it is <= 0.
	MaxMessageSize int32
}

// Server serves the Thrift transport on any number of listeners: each TLS
// listener serves ThriftSecureEventTransmissionService and each plain one
// ThriftEventTransmissionService, as the WSO2 receiver does, so that
// credentials only ever travel encrypted. Sessions live in the Core and are
// shared by every listener (and by the binary transport).
type Server struct {
	opts    Options
	log     *slog.Logger
	cfg     *athrift.TConfiguration
	handler *handler
	secure  athrift.TProcessor
	plain   athrift.TProcessor

	ctx    context.Context // cancelled by Close: ends requests in progress
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	listeners []listener
	conns     map[net.Conn]struct{}
}

type listener struct {
	net.Listener
	tls bool
}

// NewServer returns a Server; it listens once Listen is called.
func NewServer(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
	log := o.Logger.With("component", "databridge.thrift")
	h := &handler{core: o.Core, log: log, builtin: make(map[string]bool), logged: make(map[string]bool)}
	for _, d := range databridge.Builtin() {
		h.builtin[d.ID()] = true
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		opts: o, log: log, handler: h,
		cfg: &athrift.TConfiguration{
			MaxMessageSize: o.MaxMessageSize,
			// The agent's TBinaryProtocol writes versioned (strict)
			// messages. Reading only those matters: an unversioned
			// message begins with the length of its name, which the
			// library reads in full without a bound, so a stray client
			// could make it buffer up to 2 GB.
			TBinaryStrictRead:  athrift.BoolPtr(true),
			TBinaryStrictWrite: athrift.BoolPtr(true),
		},
		secure: wire.NewThriftSecureEventTransmissionServiceProcessor(h),
		plain:  wire.NewThriftEventTransmissionServiceProcessor(h),
		ctx:    ctx, cancel: cancel,
		conns: make(map[net.Conn]struct{}),
	}
}

// Listen starts serving on addr (host:port; port 0 picks one, see Addr and TLSAddr):
// the secure service over TLS when useTLS is set (the agent's ssl:// auth
// URL, default port 7711, 7712 on the analytics worker), else the event
// service over plain TCP (tcp://, 7611 or 7612). It returns once the
// listener is open.
func (s *Server) Listen(addr string, useTLS bool) error {
	if s.opts.Core == nil {
		return errors.New("thrift listen: no databridge.Core in the options")
	}
	if useTLS && s.opts.TLSConfig == nil {
		return fmt.Errorf("thrift listen on %s: TLS needs a certificate (Options.TLSConfig)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("thrift listen on %s: %w", addr, err)
	}
	if useTLS {
		ln = tls.NewListener(ln, s.opts.TLSConfig)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return fmt.Errorf("thrift listen on %s: server closed", addr)
	}
	s.listeners = append(s.listeners, listener{ln, useTLS})
	s.wg.Add(1)
	s.mu.Unlock()
	service := "ThriftEventTransmissionService"
	if useTLS {
		service = "ThriftSecureEventTransmissionService"
	}
	s.log.Info("thrift receiver listening", "addr", ln.Addr().String(), "tls", useTLS, "service", service)
	go s.accept(ln, useTLS)
	return nil
}

// Addr returns the address of the first plain listener, or nil.
func (s *Server) Addr() net.Addr { return s.addr(false) }

// TLSAddr returns the address of the first TLS listener, or nil.
func (s *Server) TLSAddr() net.Addr { return s.addr(true) }

func (s *Server) addr(useTLS bool) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.listeners {
		if l.tls == useTLS {
			return l.Addr()
		}
	}
	return nil
}

// Close stops the listeners, closes every connection (ending the requests
// in progress) and waits for their goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var errs []error
	for _, l := range s.listeners {
		if err := l.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close thrift listener %s: %w", l.Addr(), err))
		}
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return errors.Join(errs...)
}

func (s *Server) accept(ln net.Listener, useTLS bool) {
	defer s.wg.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: keep serving the
			// connections there are, and try again.
			s.log.Error("thrift accept", "addr", ln.Addr().String(), "err", err)
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			return
		}
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(conn, useTLS)
	}
}

// serve answers the requests of one connection until the client closes it
// or sends something the protocol cannot make sense of. It sets no read
// deadline: the agent keeps pooled sockets idle for long periods.
func (s *Server) serve(conn net.Conn, useTLS bool) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
		conn.Close()
	}()
	remote := conn.RemoteAddr().String()
	proc := s.plain
	if tc, ok := conn.(*tls.Conn); ok {
		proc = s.secure
		if err := tc.HandshakeContext(s.ctx); err != nil {
			if !isDisconnect(err) {
				s.log.Warn("thrift TLS handshake failed", "remote", remote, "err", err)
			}
			return
		}
	}
	trans := athrift.NewTBufferedTransport(athrift.NewTSocketFromConnConf(conn, s.cfg), bufferSize)
	in := athrift.NewTBinaryProtocolConf(trans, s.cfg)
	out := athrift.NewTBinaryProtocolConf(trans, s.cfg)
	ctx := context.WithValue(s.ctx, remoteKey{}, remote)
	for {
		ok, err := proc.Process(ctx, in, out)
		switch {
		case err == nil:
		case ok:
			// The handler's error went back to the client as the
			// exception of the call; the connection stays usable.
		case isDisconnect(err):
			// The client closed (the agent's health probe opens and
			// closes a connection every 30 s), or Close did.
			return
		case isUnknownMethod(err):
			// The request was skipped and answered with an exception, so
			// the stream is still in step: e.g. connect on the plain port.
			s.log.Warn("thrift request for a method this port does not serve", "remote", remote, "tls", useTLS, "err", err)
		default:
			s.log.Warn("malformed thrift request: closing the connection", "remote", remote, "tls", useTLS, "err", err)
			return
		}
	}
}

// remoteKey is the context key of the client's address, for log lines.
type remoteKey struct{}

// remoteAddr returns the client's address that serve put in ctx.
func remoteAddr(ctx context.Context) string {
	s, _ := ctx.Value(remoteKey{}).(string)
	return s
}

// isDisconnect reports whether err means the connection is gone rather
// than that the client sent something wrong.
func isDisconnect(err error) bool {
	var te athrift.TTransportException
	if errors.As(err, &te) && te.TypeId() == athrift.END_OF_FILE {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func isUnknownMethod(err error) bool {
	var ae athrift.TApplicationException
	return errors.As(err, &ae) && ae.TypeId() == athrift.UNKNOWN_METHOD
}
