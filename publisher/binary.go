package publisher

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/apilens/apilens/databridge"
)

// binaryTransport is the data-bridge binary transport: a login frame on
// the auth URL (TLS as a rule) opens a session, whose id every publish
// frame on the receiver URL carries (REFERENCE §1).
type binaryTransport struct {
	o       Options
	streams *streams
}

type binaryConn struct {
	t    *binaryTransport
	auth Endpoint
	nc   net.Conn
	r    *bufio.Reader
	sid  string
	buf  []byte // the last frame, reused
}

func (t *binaryTransport) dial(ctx context.Context, recv, auth Endpoint) (conn, error) {
	sid, err := t.login(ctx, auth)
	if err != nil {
		return nil, err
	}
	nc, err := dialSocket(ctx, t.o, recv)
	if err != nil {
		return nil, err
	}
	return &binaryConn{t: t, auth: auth, nc: nc, r: bufio.NewReader(nc), sid: sid}, nil
}

// login opens a session on the auth endpoint, on a connection of its own
// that it closes, as the agent does.
func (t *binaryTransport) login(ctx context.Context, auth Endpoint) (string, error) {
	nc, err := dialSocket(ctx, t.o, auth)
	if err != nil {
		return "", fmt.Errorf("log in: %w", err)
	}
	defer nc.Close()
	defer deadline(ctx, t.o, nc)()
	if _, err := nc.Write(databridge.AppendLoginFrame(nil, t.o.User, t.o.Password)); err != nil {
		return "", fmt.Errorf("log in at %s: %w", auth, err)
	}
	resp, err := databridge.ReadResponse(bufio.NewReader(nc))
	if err != nil {
		return "", fmt.Errorf("log in at %s: %w", auth, err)
	}
	if err := resp.Err(); err != nil {
		return "", fmt.Errorf("log in at %s as %q: %w", auth, t.o.User, classify(err))
	}
	if resp.Type != databridge.ResponseLoginOK {
		return "", fmt.Errorf("log in at %s: unexpected response type 0x%02x", auth, resp.Type)
	}
	return resp.SessionID, nil
}

func (c *binaryConn) publish(ctx context.Context, b *batch) (int, error) {
	var err error
	c.buf, err = databridge.AppendPublishFrame(c.buf[:0], c.sid, c.t.streams, b.streamEvents(c.t.streams))
	if err != nil {
		// The definitions are built in: a bug, not the receiver's doing.
		return 0, fmt.Errorf("%w: encode publish frame: %w", errRejected, err)
	}
	resp, err := c.roundTrip(ctx)
	if err != nil {
		return 0, err
	}
	if err := resp.Err(); err != nil {
		return 0, fmt.Errorf("publish to %s: %w", c.nc.RemoteAddr(), classify(err))
	}
	if resp.Type != databridge.ResponseOK {
		return 0, fmt.Errorf("publish to %s: unexpected response type 0x%02x", c.nc.RemoteAddr(), resp.Type)
	}
	return 0, nil
}

// roundTrip writes c.buf and reads the response.
func (c *binaryConn) roundTrip(ctx context.Context) (*databridge.Response, error) {
	defer deadline(ctx, c.t.o, c.nc)()
	if _, err := c.nc.Write(c.buf); err != nil {
		return nil, fmt.Errorf("write to %s: %w", c.nc.RemoteAddr(), err)
	}
	resp, err := databridge.ReadResponse(c.r)
	if err != nil {
		return nil, fmt.Errorf("from %s: %w", c.nc.RemoteAddr(), err)
	}
	return resp, nil
}

func (c *binaryConn) relogin(ctx context.Context) error {
	sid, err := c.t.login(ctx, c.auth)
	if err != nil {
		return err
	}
	c.sid = sid
	return nil
}

// close logs out on the publishing connection: the receiver shares
// sessions between its listeners, and this spares a TLS handshake.
func (c *binaryConn) close(ctx context.Context, logout bool) {
	if logout {
		c.buf = databridge.AppendLogoutFrame(c.buf[:0], c.sid)
		_, _ = c.roundTrip(ctx) // best effort: the session expires anyway
	}
	_ = c.nc.Close()
}

// classify wraps a receiver's error in the kind the sender acts on.
func classify(err error) error {
	switch {
	case errors.Is(err, databridge.ErrSessionExpired):
		return fmt.Errorf("%w: %w", errSessionExpired, err)
	case errors.Is(err, databridge.ErrUndefinedStream):
		return fmt.Errorf("%w: %w", errRejected, err)
	case errors.Is(err, databridge.ErrAuthentication):
		return fmt.Errorf("%w: %w", errAuthentication, err)
	}
	return err
}
