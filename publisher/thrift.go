package publisher

import (
	"context"
	"fmt"

	"github.com/apilens/apilens/databridge/thrift"
)

// thriftTransport is the data-bridge Thrift transport: connect on the
// auth URL's secure service opens a session, publish on the receiver URL
// sends bundles with its id (REFERENCE §1).
type thriftTransport struct {
	o       Options
	streams *streams
}

type thriftConn struct {
	t   *thriftTransport
	c   *thrift.Client
	sid string
}

func (t *thriftTransport) dial(ctx context.Context, recv, auth Endpoint) (conn, error) {
	c, err := thrift.Dial(ctx, thrift.ClientOptions{
		Addr: recv.Addr(), TLS: recv.Secure(), AuthAddr: auth.Addr(),
		TLSConfig: t.o.TLSConfig, Timeout: t.o.SocketTimeout,
	})
	if err != nil {
		return nil, err
	}
	tc := &thriftConn{t: t, c: c}
	if err := tc.relogin(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	return tc, nil
}

func (c *thriftConn) publish(ctx context.Context, b *batch) (int, error) {
	bundle, err := thrift.EncodeBundle(c.sid, b.streamEvents(c.t.streams), c.t.streams)
	if err != nil {
		// The definitions are built in: a bug, not the receiver's doing.
		return 0, fmt.Errorf("%w: %w", errRejected, err)
	}
	// The client's sockets time out on their own; closing them is what
	// cuts a call short when Close gives up.
	defer context.AfterFunc(ctx, func() { _ = c.c.Close() })()
	return 0, classify(c.c.Publish(ctx, bundle))
}

func (c *thriftConn) relogin(ctx context.Context) error {
	defer context.AfterFunc(ctx, func() { _ = c.c.Close() })()
	sid, err := c.c.Connect(ctx, c.t.o.User, c.t.o.Password)
	if err != nil {
		return fmt.Errorf("log in as %q: %w", c.t.o.User, classify(err))
	}
	c.sid = sid
	return nil
}

func (c *thriftConn) close(ctx context.Context, logout bool) {
	if logout {
		stop := context.AfterFunc(ctx, func() { _ = c.c.Close() })
		_ = c.c.Disconnect(ctx, c.sid) // best effort: the session expires anyway
		stop()
	}
	_ = c.c.Close()
}
