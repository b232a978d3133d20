package databridge

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apilens/apilens"
)

// logCapture keeps the records logged at warn and above.
type logCapture struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logCapture) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelInfo }
func (l *logCapture) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool { s += " " + a.String(); return true })
	l.msgs = append(l.msgs, s)
	return nil
}
func (l *logCapture) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCapture) WithGroup(string) slog.Handler      { return l }

func (l *logCapture) find(sub string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, m := range l.msgs {
		if strings.Contains(m, sub) {
			out = append(out, m)
		}
	}
	return out
}

type testServer struct {
	*BinaryServer
	core  *Core
	sink  *fakeSink
	clk   *clock
	logs  *logCapture
	roots *x509.CertPool
}

func startServer(t *testing.T, o BinaryOptions) *testServer {
	t.Helper()
	cert, fp, err := SelfSignedCertificate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(fp) != 32*3-1 {
		t.Errorf("fingerprint %q", fp)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	ts := &testServer{sink: &fakeSink{}, clk: &clock{t: time.Now()}, logs: &logCapture{}, roots: roots}
	ts.core = NewCore(CoreOptions{Auth: fakeAuth, Events: ts.sink, Now: ts.clk.now, Registry: testRegistry(t), Logger: slog.New(ts.logs)})
	o.Addr, o.TLSAddr = "127.0.0.1:0", "127.0.0.1:0"
	o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	ts.BinaryServer = NewBinaryServer(ts.core, o)
	if err := ts.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ts.Close() })
	return ts
}

type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func (ts *testServer) dial(t *testing.T, secure bool) *client {
	t.Helper()
	var c net.Conn
	var err error
	if secure {
		// Verified against the generated certificate, by its IP SAN.
		c, err = tls.Dial("tcp", ts.TLSAddr().String(), &tls.Config{RootCAs: ts.roots, ServerName: "127.0.0.1"})
	} else {
		c, err = net.Dial("tcp", ts.Addr().String())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, r: bufio.NewReader(c)}
}

func (c *client) do(frame []byte) *Response {
	c.t.Helper()
	if _, err := c.c.Write(frame); err != nil {
		c.t.Fatal(err)
	}
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := ReadResponse(c.r)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp
}

func (c *client) login(user, pass string) string {
	c.t.Helper()
	resp := c.do(AppendLoginFrame(nil, user, pass))
	if resp.Type != ResponseLoginOK || len(resp.SessionID) != 36 {
		c.t.Fatalf("login: %+v", resp)
	}
	return resp.SessionID
}

func (c *client) publish(r *Registry, sid string, evs ...Event) *Response {
	c.t.Helper()
	f, err := AppendPublishFrame(nil, sid, r, evs)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(f)
}

// closed reports whether the server closed the connection.
func (c *client) closed() bool {
	c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.r.ReadByte()
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

func TestSessionSharedAcrossListeners(t *testing.T) {
	ts := startServer(t, BinaryOptions{})
	r := ts.core.Registry()
	sid := ts.dial(t, true).login("gw", "secret")
	if len(ts.logs.find("user gw connected")) != 1 {
		t.Errorf("no 'user gw connected' line: %v", ts.logs.msgs)
	}
	plain := ts.dial(t, false)
	for i := 0; i < 3; i++ {
		if resp := plain.publish(r, sid, requestEvent(t, r), allTypesEvent()); resp.Type != ResponseOK {
			t.Fatalf("publish over TCP with a TLS session: %+v", resp)
		}
	}
	if len(ts.sink.events) != 3 || ts.sink.principals[0] != "gw" || ts.sink.events[0].APIName != "Pizza" {
		t.Errorf("%d events, principals %v", len(ts.sink.events), ts.sink.principals)
	}
	if resp := plain.do(AppendLogoutFrame(nil, sid)); resp.Type != ResponseOK {
		t.Errorf("logout: %+v", resp)
	}
	if resp := plain.publish(r, sid, requestEvent(t, r)); resp.Class != ClassSessionTimeout {
		t.Errorf("publish after logout: %+v", resp)
	}
}

func TestSessionExpiry(t *testing.T) {
	ts := startServer(t, BinaryOptions{})
	r := ts.core.Registry()
	c := ts.dial(t, false)
	sid := c.login("gw", "secret")
	ts.clk.add(29 * time.Minute)
	if resp := c.publish(r, sid, requestEvent(t, r)); resp.Type != ResponseOK {
		t.Fatalf("publish at 29 minutes: %+v", resp)
	}
	ts.clk.add(2 * time.Minute)
	if resp := c.publish(r, sid, requestEvent(t, r)); resp.Class != ClassSessionTimeout {
		t.Fatalf("publish at 31 minutes: %+v", resp)
	}
	// The agent logs in again on the same connection and retries.
	sid = c.login("gw", "secret")
	if resp := c.publish(r, sid, requestEvent(t, r)); resp.Type != ResponseOK {
		t.Fatalf("retry: %+v", resp)
	}
}

func TestWrongPassword(t *testing.T) {
	ts := startServer(t, BinaryOptions{})
	c := ts.dial(t, true)
	for _, u := range []string{"gw", "viewer"} {
		resp := c.do(AppendLoginFrame(nil, u, map[string]string{"gw": "wrong", "viewer": "secret"}[u]))
		if resp.Type != ResponseError || resp.Class != ClassAuthentication || resp.SessionID != "" {
			t.Errorf("%s: %+v", u, resp)
		}
		if len(ts.logs.find("login failed")) == 0 || len(ts.logs.find("user="+u)) == 0 {
			t.Errorf("%s: no log line naming the user: %v", u, ts.logs.msgs)
		}
	}
	ts.core.mu.Lock()
	n := len(ts.core.sessions)
	ts.core.mu.Unlock()
	if n != 0 {
		t.Errorf("%d sessions after failed logins", n)
	}
	// The connection stays usable.
	c.login("gw", "secret")
}

func TestUndefinedStream(t *testing.T) {
	ts := startServer(t, BinaryOptions{})
	r := ts.core.Registry()
	c := ts.dial(t, false)
	sid := c.login("gw", "secret")
	other := NewRegistry()
	other.Define(&StreamDef{Name: "custom", Payload: []Attribute{{"a", STRING}}})
	frame, err := AppendPublishFrame(nil, sid, other, []Event{requestEvent(t, other), {StreamID: "custom:1.0.0", Payload: []any{"x"}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if resp := c.do(frame); resp.Class != ClassUndefinedEventType || !strings.Contains(resp.Message, "custom:1.0.0") {
			t.Fatalf("unknown stream: %+v", resp)
		}
	}
	if n := len(ts.logs.find("undefined stream")); n != 1 {
		t.Errorf("undefined stream logged %d times, want once", n)
	}
	if len(ts.sink.events) != 0 {
		t.Errorf("%d events of the refused batch kept", len(ts.sink.events))
	}
	if resp := c.publish(r, sid, requestEvent(t, r)); resp.Type != ResponseOK {
		t.Errorf("the connection is not usable after the refusal: %+v", resp)
	}
}

func TestBadFrame(t *testing.T) {
	ts := startServer(t, BinaryOptions{})
	r := ts.core.Registry()
	for _, frame := range [][]byte{
		{9, 0, 0, 0, 0},
		{2, 0, 0, 0, 4, 0, 0, 0, 99},
		AppendLoginFrame(nil, "gw", "secret")[:9],
	} {
		c := ts.dial(t, false)
		if len(frame) == 9 && frame[0] == 0 {
			// A truncated frame: the server waits for the rest, then gives up.
			c.c.Write(frame)
			c.c.(*net.TCPConn).CloseWrite()
			if !c.closed() {
				t.Error("connection open after a truncated frame")
			}
			continue
		}
		if resp := c.do(frame); resp.Class != ClassDataBridge || !strings.Contains(resp.Message, "malformed frame") {
			t.Errorf("% x: %+v", frame, resp)
		}
		if !c.closed() {
			t.Errorf("% x: connection still open", frame)
		}
	}
	// The server keeps serving.
	c := ts.dial(t, false)
	if resp := c.publish(r, c.login("gw", "secret"), requestEvent(t, r)); resp.Type != ResponseOK {
		t.Errorf("after bad frames: %+v", resp)
	}
}

func TestProbesAndIdleConnections(t *testing.T) {
	ts := startServer(t, BinaryOptions{FrameTimeout: 100 * time.Millisecond})
	r := ts.core.Registry()
	for i := 0; i < 5; i++ {
		for _, secure := range []bool{false, true} {
			addr := ts.Addr()
			if secure {
				addr = ts.TLSAddr()
			}
			c, err := net.Dial("tcp", addr.String())
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
		}
	}
	c := ts.dial(t, false)
	sid := c.login("gw", "secret")
	// Idle well past the frame timeout: the server must not close it.
	time.Sleep(400 * time.Millisecond)
	if resp := c.publish(r, sid, requestEvent(t, r)); resp.Type != ResponseOK {
		t.Fatalf("after idling: %+v", resp)
	}
	// A frame that stalls half-way is cut off.
	stalled := ts.dial(t, false)
	stalled.c.Write([]byte{2, 0, 0, 1, 0, 0})
	if !stalled.closed() {
		t.Error("a stalled frame kept its connection")
	}
	time.Sleep(50 * time.Millisecond)
	if warn := ts.logs.find("WARN"); len(warn) != 1 || !strings.Contains(warn[0], "middle of a frame") {
		t.Errorf("warnings: %v", warn)
	}
	if errs := ts.logs.find("ERROR"); len(errs) != 0 {
		t.Errorf("errors: %v", errs)
	}
}

func TestPublishFailure(t *testing.T) {
	ts := startServer(t, BinaryOptions{})
	r := ts.core.Registry()
	ts.sink.err = apilens.Errorf(apilens.EUNAVAILABLE, "the event buffer is full")
	c := ts.dial(t, false)
	resp := c.publish(r, c.login("gw", "secret"), requestEvent(t, r))
	if resp.Class != ClassDataBridge || !strings.Contains(resp.Message, "buffer is full") {
		t.Errorf("%+v", resp)
	}
}

func TestSelfSignedCertificateKept(t *testing.T) {
	dir := t.TempDir()
	c1, fp1, err := SelfSignedCertificate(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, fp2, err := SelfSignedCertificate(dir)
	if err != nil || fp1 != fp2 {
		t.Errorf("regenerated: %s %s %v", fp1, fp2, err)
	}
	leaf := c1.Leaf
	if leaf.PublicKeyAlgorithm != x509.ECDSA || !strings.Contains(strings.Join(leaf.DNSNames, ","), "localhost") || len(leaf.IPAddresses) != 2 {
		t.Errorf("certificate: %v %v %v", leaf.PublicKeyAlgorithm, leaf.DNSNames, leaf.IPAddresses)
	}
}
