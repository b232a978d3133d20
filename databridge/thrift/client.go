package thrift

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	athrift "github.com/apache/thrift/lib/go/thrift"

	"github.com/apilens/apilens/databridge"
	"github.com/apilens/apilens/databridge/thrift/wire"
)

// DefaultClientTimeout is the agent's socket timeout, used when
// ClientOptions.Timeout is zero.
const DefaultClientTimeout = 30 * time.Second

// ClientOptions configure a Client the way a gateway's receiver and auth
// URLs configure the agent.
type ClientOptions struct {
	// Addr (host:port) is the receiver events are published to.
	Addr string
	// TLS says Addr is a TLS port (an ssl:// receiver URL), which serves
	// the secure service; otherwise it is a plain one (tcp://).
	TLS bool
	// AuthAddr (host:port) is the TLS auth port that connect and disconnect
	// go to: the agent's auth URL, by default the receiver's port + 100.
	// Empty means Addr, which must then be TLS.
	AuthAddr string
	// TLSConfig is used for the TLS connections; nil means the system's
	// roots and the host of the address as the server name.
	TLSConfig *tls.Config
	// Timeout bounds dialing and every read and write; zero means
	// DefaultClientTimeout.
	Timeout time.Duration
}

// Client speaks to one Thrift receiver as the agent does: connect and
// disconnect on a TLS connection to the auth port, publish (and the stream
// calls) on a connection to the receiver port. It is safe for concurrent
// use; calls are serialized, one request at a time on each connection.
//
// Errors that are the receiver's answers are *RemoteError; after any other
// error a connection may be out of step, and the Client should be closed
// and dialed again.
type Client struct {
	mu       sync.Mutex
	data     dataService
	auth     *wire.ThriftSecureEventTransmissionServiceClient
	conns    []net.Conn
	authAddr string
	addr     string
}

// dataService is what the plain and the secure service have in common:
// the calls Client makes on the receiver port.
type dataService interface {
	DefineStream(ctx context.Context, sessionID, streamDefinition string) (string, error)
	FindStreamId(ctx context.Context, sessionID, name, version string) (string, error)
	Publish(ctx context.Context, b *wire.ThriftEventBundle) error
	DeleteStreamById(ctx context.Context, sessionID, streamID string) (bool, error)
}

// Dial opens the connections of a Client.
func Dial(ctx context.Context, o ClientOptions) (*Client, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultClientTimeout
	}
	if o.AuthAddr == "" {
		if !o.TLS {
			return nil, fmt.Errorf("thrift dial %s: connect needs a TLS auth address, and the receiver is plain", o.Addr)
		}
		o.AuthAddr = o.Addr
	}
	cfg := &athrift.TConfiguration{ConnectTimeout: o.Timeout, SocketTimeout: o.Timeout}
	c := &Client{addr: o.Addr, authAddr: o.AuthAddr}
	open := func(addr string, useTLS bool) (athrift.TTransport, athrift.TProtocolFactory, error) {
		d := &net.Dialer{Timeout: o.Timeout}
		var conn net.Conn
		var err error
		if useTLS {
			conn, err = (&tls.Dialer{NetDialer: d, Config: o.TLSConfig}).DialContext(ctx, "tcp", addr)
		} else {
			conn, err = d.DialContext(ctx, "tcp", addr)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("thrift dial %s: %w", addr, err)
		}
		c.conns = append(c.conns, conn)
		trans := athrift.NewTBufferedTransport(athrift.NewTSocketFromConnConf(conn, cfg), bufferSize)
		return trans, athrift.NewTBinaryProtocolFactoryConf(cfg), nil
	}
	trans, pf, err := open(o.Addr, o.TLS)
	if err != nil {
		return nil, err
	}
	if o.TLS {
		secure := wire.NewThriftSecureEventTransmissionServiceClientFactory(trans, pf)
		c.data = secure
		if o.AuthAddr == o.Addr {
			c.auth = secure
			return c, nil
		}
	} else {
		c.data = wire.NewThriftEventTransmissionServiceClientFactory(trans, pf)
	}
	if trans, pf, err = open(o.AuthAddr, true); err != nil {
		c.Close()
		return nil, err
	}
	c.auth = wire.NewThriftSecureEventTransmissionServiceClientFactory(trans, pf)
	return c, nil
}

// Close closes the connections.
func (c *Client) Close() error {
	var errs []error
	for _, conn := range c.conns {
		if err := conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Connect logs in on the auth port and returns the session id; wrong
// credentials are a *RemoteError that wraps databridge.ErrAuthentication.
func (c *Client) Connect(ctx context.Context, user, password string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sid, err := c.auth.Connect(ctx, user, password)
	return sid, callError("connect", c.authAddr, err)
}

// Disconnect ends the session on the auth port.
func (c *Client) Disconnect(ctx context.Context, sessionID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return callError("disconnect", c.authAddr, c.auth.Disconnect(ctx, sessionID))
}

// Publish sends a bundle (see EncodeBundle) and returns once the receiver
// has acknowledged it. An expired session is a *RemoteError that wraps
// databridge.ErrSessionExpired (connect again and resend); an undefined
// stream or a bundle the receiver cannot decode wraps
// databridge.ErrUndefinedStream (the agent drops the batch).
func (c *Client) Publish(ctx context.Context, b *wire.ThriftEventBundle) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return callError("publish", c.addr, c.data.Publish(ctx, b))
}

// DefineStream defines a stream on the receiver and returns its id.
func (c *Client) DefineStream(ctx context.Context, sessionID string, def *databridge.StreamDef) (string, error) {
	js, err := json.Marshal(def)
	if err != nil {
		return "", fmt.Errorf("thrift defineStream %s: %w", def.ID(), err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id, err := c.data.DefineStream(ctx, sessionID, string(js))
	return id, callError("defineStream", c.addr, err)
}

// FindStreamID returns the id of a stream the receiver knows.
func (c *Client) FindStreamID(ctx context.Context, sessionID, name, version string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, err := c.data.FindStreamId(ctx, sessionID, name, version)
	return id, callError("findStreamId", c.addr, err)
}

// DeleteStream removes a stream definition from the receiver; it reports
// whether there was one.
func (c *Client) DeleteStream(ctx context.Context, sessionID, streamID string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ok, err := c.data.DeleteStreamById(ctx, sessionID, streamID)
	return ok, callError("deleteStreamById", c.addr, err)
}

// RemoteError is an exception a receiver answered a call with.
type RemoteError struct {
	Call      string // the method called
	Addr      string // the receiver's address
	Exception string // the Thrift exception's name, e.g. ThriftSessionExpiredException
	Message   string
	kind      error // the databridge error it means, if any
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("thrift %s on %s: %s: %s", e.Call, e.Addr, e.Exception, e.Message)
}

// Unwrap returns databridge.ErrSessionExpired, ErrUndefinedStream or
// ErrAuthentication for the exceptions that mean them, else nil.
func (e *RemoteError) Unwrap() error { return e.kind }

// callError turns the error of a generated client call into a RemoteError
// when it is one of the services' exceptions, and adds context otherwise.
func callError(call, addr string, err error) error {
	if err == nil {
		return nil
	}
	re := &RemoteError{Call: call, Addr: addr}
	switch e := err.(type) {
	case *wire.ThriftSessionExpiredException:
		re.Exception, re.Message, re.kind = "ThriftSessionExpiredException", e.Message, databridge.ErrSessionExpired
	case *wire.ThriftUndefinedEventTypeException:
		re.Exception, re.Message, re.kind = "ThriftUndefinedEventTypeException", e.Message, databridge.ErrUndefinedStream
	case *wire.ThriftAuthenticationException:
		re.Exception, re.Message, re.kind = "ThriftAuthenticationException", e.Message, databridge.ErrAuthentication
	case *wire.ThriftMalformedStreamDefinitionException:
		re.Exception, re.Message = "ThriftMalformedStreamDefinitionException", e.Message
	case *wire.ThriftDifferentStreamDefinitionAlreadyDefinedException:
		re.Exception, re.Message = "ThriftDifferentStreamDefinitionAlreadyDefinedException", e.Message
	case *wire.ThriftStreamDefinitionException:
		re.Exception, re.Message = "ThriftStreamDefinitionException", e.Message
	case *wire.ThriftNoStreamDefinitionExistException:
		re.Exception, re.Message = "ThriftNoStreamDefinitionExistException", e.Message
	default:
		var ae athrift.TApplicationException
		if errors.As(err, &ae) {
			re.Exception, re.Message = "TApplicationException", ae.Error()
			return re
		}
		return fmt.Errorf("thrift %s on %s: %w", call, addr, err)
	}
	return re
}
