package thrift

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	athrift "github.com/apache/thrift/lib/go/thrift"
	"go.uber.org/goleak"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/databridge"
	"github.com/apilens/apilens/databridge/thrift/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sink is a databridge.EventSink that decodes and keeps what it is given.
type sink struct {
	mu         sync.Mutex
	principals []string
	events     []apilens.Event
	err        error
}

func (s *sink) Submit(ctx context.Context, principal, key string, data []byte, n int) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return false, s.err
	}
	var b apilens.Batch
	var d apilens.Decoder
	if err := d.DecodeBatch(apilens.AppendEncodedBatch(nil, key, n, data), &b); err != nil {
		return false, err
	}
	s.principals = append(s.principals, principal)
	s.events = append(s.events, b.Events...)
	return false, nil
}

func (s *sink) got() []apilens.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]apilens.Event(nil), s.events...)
}

func auth(ctx context.Context, user, pass string) (*apilens.User, error) {
	if user == "gw" && pass == "secret" {
		return &apilens.User{Name: "gw", Roles: []string{apilens.RolePublisher}}, nil
	}
	return nil, apilens.Errorf(apilens.EUNAUTHORIZED, "wrong user name or password")
}

// testTLS returns a server certificate for 127.0.0.1, made here, and a
// client configuration that trusts it.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "apilens test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}

type env struct {
	srv       *Server
	core      *databridge.Core
	sink      *sink
	clientTLS *tls.Config
}

// start runs a Server on a real Core with a fake sink, listening on a TLS
// and a plain port of 127.0.0.1.
func start(t *testing.T) *env {
	t.Helper()
	serverTLS, clientTLS := testTLS(t)
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	e := &env{sink: &sink{}, clientTLS: clientTLS}
	e.core = databridge.NewCore(databridge.CoreOptions{Auth: auth, Events: e.sink, Registry: testRegistry(t), Logger: log})
	e.srv = NewServer(Options{Core: e.core, Logger: log, TLSConfig: serverTLS})
	t.Cleanup(func() {
		if err := e.srv.Close(); err != nil {
			t.Error(err)
		}
	})
	for _, useTLS := range []bool{true, false} {
		if err := e.srv.Listen("127.0.0.1:0", useTLS); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// dial returns a Client that logs in on the TLS port and publishes on the
// plain one, as a gateway configured with tcp:// receiver URLs does.
func (e *env) dial(t *testing.T) *Client {
	t.Helper()
	c, err := Dial(context.Background(), ClientOptions{
		Addr: e.srv.Addr().String(), AuthAddr: e.srv.TLSAddr().String(), TLSConfig: e.clientTLS, Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// requestEvent is an event of the built-in request stream at 3.2.0.
func requestEvent(api string, code int32) databridge.Event {
	return databridge.Event{
		StreamID: databridge.StreamRequest + ":3.2.0", Timestamp: 1_772_000_000_000,
		Meta: []any{"producer"},
		Payload: []any{"ck", "App", "7", "alice", "/" + api + "/1.0", api, "1.0", "/menu/3", "/menu/{id}", "GET", "bob",
			"carbon.super", "Unlimited", "gw.example", "carol", "carbon.super", "10.0.0.1", "curl/8",
			int64(1_772_000_000_000), false, int64(42), int64(5), int64(30), false, int64(100), "https-8243", code,
			"https://backend/menu", int64(1), int64(1), int64(3), int64(2), int64(30), int64(1), "SYNAPSE", nil, "{}"},
	}
}

func TestPublishEndToEnd(t *testing.T) {
	e := start(t)
	c := e.dial(t)
	ctx := context.Background()
	sid, err := c.Connect(ctx, "gw", "secret")
	if err != nil {
		t.Fatal(err)
	}
	defs := e.core.Registry()
	for i := range 3 {
		events := []databridge.Event{requestEvent("Pizza", 200), requestEvent("Pasta", 500), testEvents()[2]}
		b, err := EncodeBundle(sid, events, defs)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Publish(ctx, b); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	got := e.sink.got()
	if len(got) != 9 {
		t.Fatalf("sink got %d events, want 9", len(got))
	}
	if got[0].APIName != "Pizza" || got[1].APIName != "Pasta" || got[0].ProxyResponseCode != 200 || got[2].EventType != "fault" {
		t.Errorf("events: %+v", got[:3])
	}
	if err := c.Disconnect(ctx, sid); err != nil {
		t.Fatal(err)
	}
	b, _ := EncodeBundle(sid, []databridge.Event{requestEvent("Pizza", 200)}, defs)
	if err := c.Publish(ctx, b); !errors.Is(err, databridge.ErrSessionExpired) {
		t.Fatalf("publish after disconnect: %v, want the session expired", err)
	}
}

// TestTLSReceiver: an ssl:// receiver URL publishes on the TLS port, and
// with no auth URL logs in on the same connection.
func TestTLSReceiver(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	c, err := Dial(ctx, ClientOptions{Addr: e.srv.TLSAddr().String(), TLS: true, TLSConfig: e.clientTLS})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sid, err := c.Connect(ctx, "gw", "secret")
	if err != nil {
		t.Fatal(err)
	}
	b, err := EncodeBundle(sid, []databridge.Event{requestEvent("Pizza", 200)}, e.core.Registry())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, b); err != nil {
		t.Fatal(err)
	}
	if n := len(e.sink.got()); n != 1 {
		t.Fatalf("sink got %d events", n)
	}
	// A client that does not trust the certificate cannot connect.
	if c, err := Dial(ctx, ClientOptions{Addr: e.srv.TLSAddr().String(), TLS: true, TLSConfig: &tls.Config{}}); err == nil {
		c.Close()
		t.Fatal("dial with an untrusted certificate succeeded")
	}
}

// TestExceptions: every error of the Core reaches the client as the
// exception the agent expects.
func TestExceptions(t *testing.T) {
	e := start(t)
	c := e.dial(t)
	ctx := context.Background()
	defs := e.core.Registry()
	remote := func(err error, exception string, kind error) {
		t.Helper()
		var re *RemoteError
		if !errors.As(err, &re) || re.Exception != exception {
			t.Fatalf("got %v, want a %s", err, exception)
		}
		if kind != nil && !errors.Is(err, kind) {
			t.Errorf("%v is not %v", err, kind)
		}
	}

	_, err := c.Connect(ctx, "gw", "wrong")
	remote(err, "ThriftAuthenticationException", databridge.ErrAuthentication)
	sid, err := c.Connect(ctx, "gw", "secret")
	if err != nil {
		t.Fatal(err)
	}

	b, _ := EncodeBundle("not-a-session", []databridge.Event{requestEvent("Pizza", 200)}, defs)
	remote(c.Publish(ctx, b), "ThriftSessionExpiredException", databridge.ErrSessionExpired)

	undefined := &wire.ThriftEventBundle{SessionId: &sid, EventNum: athrift.Int32Ptr(1),
		StringAttributeList: []string{"nope:1.0.0"}, LongAttributeList: []int64{1}}
	remote(c.Publish(ctx, undefined), "ThriftUndefinedEventTypeException", databridge.ErrUndefinedStream)

	// Lists that do not match the definitions: the batch is dropped, the
	// endpoint kept.
	short, _ := EncodeBundle(sid, []databridge.Event{requestEvent("Pizza", 200)}, defs)
	short.LongAttributeList = short.LongAttributeList[:3]
	remote(c.Publish(ctx, short), "ThriftUndefinedEventTypeException", databridge.ErrUndefinedStream)

	_, err = c.DefineStream(ctx, "not-a-session", allTypes)
	remote(err, "ThriftSessionExpiredException", databridge.ErrSessionExpired)
	_, err = c.FindStreamID(ctx, "not-a-session", "test.all", "1.0.0")
	remote(err, "ThriftSessionExpiredException", databridge.ErrSessionExpired)
	_, err = c.DeleteStream(ctx, "not-a-session", "test.all:1.0.0")
	remote(err, "ThriftSessionExpiredException", databridge.ErrSessionExpired)

	_, err = c.FindStreamID(ctx, sid, "nope", "1.0.0")
	remote(err, "ThriftNoStreamDefinitionExistException", nil)

	// The server's own fault: a generic exception, after which the
	// connection still works.
	e.sink.mu.Lock()
	e.sink.err = errors.New("disk full")
	e.sink.mu.Unlock()
	b, _ = EncodeBundle(sid, []databridge.Event{requestEvent("Pizza", 200)}, defs)
	err = c.Publish(ctx, b)
	remote(err, "TApplicationException", nil)
	if !strings.Contains(err.Error(), "disk full") {
		t.Errorf("error %v does not say why", err)
	}
	if _, err := c.FindStreamID(ctx, sid, "test.all", ""); err != nil {
		t.Fatalf("after an internal error: %v", err)
	}
}

func TestStreamCalls(t *testing.T) {
	e := start(t)
	c := e.dial(t)
	ctx := context.Background()
	sid, err := c.Connect(ctx, "gw", "secret")
	if err != nil {
		t.Fatal(err)
	}
	custom := &databridge.StreamDef{Name: "custom", Version: "2.0.0",
		Payload: []databridge.Attribute{{Name: "n", Type: databridge.LONG}, {Name: "s", Type: databridge.STRING}}}
	id, err := c.DefineStream(ctx, sid, custom)
	if err != nil || id != "custom:2.0.0" {
		t.Fatalf("defineStream: %q, %v", id, err)
	}
	// Defining it again is fine; a built-in stream as it is, too.
	if _, err := c.DefineStream(ctx, sid, custom); err != nil {
		t.Fatal(err)
	}
	builtin := e.core.Registry().Lookup(databridge.StreamRequest + ":3.2.0")
	if _, err := c.DefineStream(ctx, sid, builtin); err != nil {
		t.Fatalf("define a built-in stream as it is: %v", err)
	}
	changed := *builtin
	changed.Payload = changed.Payload[:3]
	_, err = c.DefineStream(ctx, sid, &changed)
	var re *RemoteError
	if !errors.As(err, &re) || re.Exception != "ThriftDifferentStreamDefinitionAlreadyDefinedException" {
		t.Fatalf("redefine a built-in stream: %v", err)
	}
	// Malformed JSON, straight through the generated client.
	_, err = c.data.DefineStream(ctx, sid, `{"name": "x", "payloadData": [{"name": "a", "type": "DECIMAL"}]}`)
	if _, ok := err.(*wire.ThriftMalformedStreamDefinitionException); !ok {
		t.Fatalf("malformed definition: %v", err)
	}

	if id, err := c.FindStreamID(ctx, sid, "custom", "2.0.0"); err != nil || id != "custom:2.0.0" {
		t.Fatalf("findStreamId: %q, %v", id, err)
	}
	b, err := EncodeBundle(sid, []databridge.Event{{StreamID: "custom:2.0.0", Timestamp: 1, Payload: []any{int64(1), "x"}}},
		e.core.Registry())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, b); err != nil {
		t.Fatalf("publish to a defined stream: %v", err)
	}
	if ok, err := c.DeleteStream(ctx, sid, builtin.ID()); ok || err != nil {
		t.Fatalf("delete a built-in stream: %v, %v", ok, err)
	}
	if ok, err := c.DeleteStream(ctx, sid, "custom:2.0.0"); !ok || err != nil {
		t.Fatalf("delete: %v, %v", ok, err)
	}
	if _, err := c.FindStreamID(ctx, sid, "custom", "2.0.0"); err == nil {
		t.Fatal("found a deleted stream")
	}
}

// TestConnections: what a gateway does to the connections, and what a
// broken client does, leaves the server serving.
func TestConnections(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	plain, secure := e.srv.Addr().String(), e.srv.TLSAddr().String()

	// Health probes: open and close at once, on both ports.
	for _, addr := range []string{plain, secure} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}

	// connect on the plain port: an unknown method, answered; the
	// connection goes on.
	c, err := Dial(ctx, ClientOptions{Addr: plain, AuthAddr: plain, TLS: false, TLSConfig: e.clientTLS})
	if err == nil {
		c.Close()
		t.Fatal("dial with a TLS auth address that is plain succeeded")
	}
	conn, err := net.Dial("tcp", plain)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pf := athrift.NewTBinaryProtocolFactoryConf(nil)
	secureOnPlain := wire.NewThriftSecureEventTransmissionServiceClientFactory(athrift.NewTSocketFromConnConf(conn, nil), pf)
	_, err = secureOnPlain.Connect(ctx, "gw", "secret")
	var ae athrift.TApplicationException
	if !errors.As(err, &ae) || ae.TypeId() != athrift.UNKNOWN_METHOD {
		t.Fatalf("connect on the plain port: %v", err)
	}
	if _, err := secureOnPlain.FindStreamId(ctx, "x", "y", "z"); !isSessionExpired(err) {
		t.Fatalf("after an unknown method: %v", err)
	}

	// Garbage: the server closes that connection.
	bad, err := net.Dial("tcp", plain)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if _, err := bad.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	bad.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := io.Copy(io.Discard, bad); err != nil {
		t.Fatalf("garbage: read %d bytes, then %v; want the server to close", n, err)
	}

	// A client idle for a while, then publishing, and a new one.
	idle := e.dial(t)
	sid, err := idle.Connect(ctx, "gw", "secret")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	b, _ := EncodeBundle(sid, []databridge.Event{requestEvent("Pizza", 200)}, e.core.Registry())
	if err := idle.Publish(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := e.dial(t).Publish(ctx, b); err != nil {
		t.Fatal(err)
	}
	if n := len(e.sink.got()); n != 2 {
		t.Fatalf("sink got %d events, want 2", n)
	}
}

// TestClose: Close ends idle connections and the listeners.
func TestClose(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	core := databridge.NewCore(databridge.CoreOptions{Auth: auth, Events: &sink{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := NewServer(Options{Core: core, TLSConfig: serverTLS, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := srv.Listen("127.0.0.1:0", false); err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0", true); err != nil {
		t.Fatal(err)
	}
	c, err := Dial(context.Background(), ClientOptions{Addr: srv.Addr().String(), AuthAddr: srv.TLSAddr().String(), TLSConfig: clientTLS})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Connect(context.Background(), "gw", "secret"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- srv.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return with idle connections open")
	}
	if _, err := net.Dial("tcp", srv.Addr().String()); err == nil {
		t.Error("listener still open after Close")
	}
	if err := srv.Listen("127.0.0.1:0", false); err == nil {
		t.Error("Listen after Close succeeded")
	}
	if err := NewServer(Options{Core: core}).Listen("127.0.0.1:0", true); err == nil {
		t.Error("Listen with TLS and no certificate succeeded")
	}
}

func isSessionExpired(err error) bool {
	_, ok := err.(*wire.ThriftSessionExpiredException)
	return ok
}
