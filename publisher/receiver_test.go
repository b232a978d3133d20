package publisher

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/databridge"
	"github.com/apilens/apilens/databridge/thrift"
)

// testTLS is a self-signed certificate for 127.0.0.1 and the client
// configuration that trusts it.
var testTLS = sync.OnceValues(func() (server, client *tls.Config) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "apilens test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
})

// sink is a receiver's event store: it counts the events it made
// durable by their "n" property, the unique field that survives the 3.x
// streams (correlationId has no 3.x attribute).
type sink struct {
	mu     sync.Mutex
	seen   map[int]int
	stored int
	// refuseAfter, when > 0, makes the sink refuse every batch once it
	// has stored that many events, and tell dying once: the receiver
	// "dies" between two batches (see TestFailOverAndLoadBalance).
	refuseAfter int
	dying       chan struct{}
	refusing    bool
}

func (s *sink) Submit(_ context.Context, _, _ string, events []byte, n int) (bool, error) {
	var b apilens.Batch
	if err := new(apilens.Decoder).DecodeBatch(apilens.AppendEncodedBatch(nil, "", n, events), &b); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuseAfter > 0 && s.stored >= s.refuseAfter {
		if !s.refusing {
			s.refusing = true
			close(s.dying)
		}
		return false, errors.New("receiver shutting down")
	}
	if s.seen == nil {
		s.seen = map[int]int{}
	}
	for i := range b.Events {
		var p struct{ N int }
		if err := json.Unmarshal(b.Events[i].Properties, &p); err != nil {
			return false, fmt.Errorf("event %d: properties %s: %w", i, b.Events[i].Properties, err)
		}
		s.seen[p.N]++
		s.stored++
	}
	return false, nil
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stored
}

// receiver is an in-process data-bridge receiver, binary or Thrift: a
// plain and a TLS listener sharing one Core.
type receiver struct {
	t             *testing.T
	sink          *sink
	thrift        bool
	now           func() time.Time // the Core's clock; nil for time.Now
	srv           io.Closer
	addr, tlsAddr string // kept so a restart listens where the publisher looks
}

func startReceiver(t *testing.T, s *sink) *receiver {
	t.Helper()
	return startReceiverOf(t, &receiver{sink: s})
}

// startReceiverOf starts r, a receiver with its options set.
func startReceiverOf(t *testing.T, r *receiver) *receiver {
	t.Helper()
	r.t, r.addr, r.tlsAddr = t, "127.0.0.1:0", "127.0.0.1:0"
	r.start()
	t.Cleanup(r.stop)
	return r
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func (r *receiver) start() {
	r.t.Helper()
	serverTLS, _ := testTLS()
	core := databridge.NewCore(databridge.CoreOptions{
		Auth: func(_ context.Context, user, password string) (*apilens.User, error) {
			if user != "gw" || password != "secret" {
				return nil, apilens.Errorf(apilens.EUNAUTHORIZED, "wrong user name or password")
			}
			return &apilens.User{Name: user, Roles: []string{apilens.RolePublisher}}, nil
		},
		Events: r.sink,
		Logger: quiet,
		Now:    r.now,
	})
	if r.thrift {
		srv := thrift.NewServer(thrift.Options{Core: core, TLSConfig: serverTLS, Logger: quiet})
		r.srv = srv
		if err := srv.Listen(r.addr, false); err != nil {
			r.t.Fatal(err)
		}
		if err := srv.Listen(r.tlsAddr, true); err != nil {
			r.t.Fatal(err)
		}
		r.addr, r.tlsAddr = srv.Addr().String(), srv.TLSAddr().String()
		return
	}
	srv := databridge.NewBinaryServer(core, databridge.BinaryOptions{Addr: r.addr, TLSAddr: r.tlsAddr, TLSConfig: serverTLS})
	r.srv = srv
	if err := srv.Open(); err != nil {
		r.t.Fatal(err)
	}
	r.addr, r.tlsAddr = srv.Addr().String(), srv.TLSAddr().String()
}

func (r *receiver) stop() {
	if r.srv != nil {
		r.srv.Close()
		r.srv = nil
	}
}

func (r *receiver) url() string     { return "tcp://" + r.addr }
func (r *receiver) authURL() string { return "ssl://" + r.tlsAddr }

// testEvent is the n-th event of a test: a response, a fault or a
// throttled fault, numbered in its properties.
func testEvent(n int) apilens.Event {
	e := apilens.Event{
		RequestTimestamp: time.UnixMilli(1_750_000_000_000 + int64(n)).UTC(),
		APIName:          "PizzaShackAPI", APIVersion: "1.0.0", APIContext: "/pizzashack/1.0.0",
		APICreator: "admin", APICreatorTenantDomain: "carbon.super", APIMethod: "GET",
		APIResourceTemplate: "/menu", ApplicationName: "app", ApplicationID: "a-1", ApplicationOwner: "alice",
		UserName: "alice", GatewayType: "SYNAPSE", Destination: "https://backend/menu",
		UserIP: "10.0.0.1", UserAgentHeader: "curl/8.0",
		ProxyResponseCode: 200, ResponseLatency: 12, BackendLatency: 9,
		RequestMediationLatency: 1, ResponseMediationLatency: 2,
		EventType:  apilens.EventResponse,
		Properties: json.RawMessage(`{"n":` + strconv.Itoa(n) + `}`),
	}
	switch n % 10 {
	case 7:
		e.EventType, e.ErrorType, e.ErrorCode, e.ErrorMessage, e.ProxyResponseCode = apilens.EventFault, apilens.FaultAuth, 900901, "AUTHENTICATION_FAILURE", 401
	case 8:
		e.EventType, e.ErrorType, e.ErrorCode, e.ErrorMessage, e.ProxyResponseCode = apilens.EventFault, apilens.FaultThrottled, 900803, "APPLICATION_LEVEL_LIMIT_EXCEEDED", 429
	}
	return e
}

func testEvents(from, n int) []apilens.Event {
	out := make([]apilens.Event, n)
	for i := range out {
		out[i] = testEvent(from + i)
	}
	return out
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
