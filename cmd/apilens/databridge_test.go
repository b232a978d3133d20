package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/databridge"
	"github.com/apilens/apilens/web"
)

// binaryConn is a raw data-bridge binary connection.
type binaryConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func (b *binaryConn) do(frame []byte) *databridge.Response {
	b.t.Helper()
	if _, err := b.c.Write(frame); err != nil {
		b.t.Fatal(err)
	}
	resp, err := databridge.ReadResponse(b.r)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp
}

// TestDatabridgeBinaryEndToEnd logs a gateway in over the TLS listener
// (trusting the certificate generated in the data directory), publishes
// request, fault and throttle events of every 3.x version and a log record
// over the plain listener with that session, and finds them counted
// exactly in traffic/summary.
func TestDatabridgeBinaryEndToEnd(t *testing.T) {
	dir := t.TempDir()
	m := startServer(t, dir, nil)
	defer m.Close()
	ctx := context.Background()
	h, _ := web.HashPassword("gw-password")
	if err := m.Store.PutUser(ctx, &apilens.User{Name: "gw", PasswordHash: h, Roles: []string{apilens.RolePublisher}, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}

	pem, err := os.ReadFile(filepath.Join(dir, databridge.CertFile))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	tc, err := tls.Dial("tcp", m.Binary.TLSAddr().String(), &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	auth := &binaryConn{t: t, c: tc, r: bufio.NewReader(tc)}
	if resp := auth.do(databridge.AppendLoginFrame(nil, "gw", "wrong")); resp.Class != databridge.ClassAuthentication {
		t.Fatalf("wrong password: %+v", resp)
	}
	login := auth.do(databridge.AppendLoginFrame(nil, "gw", "gw-password"))
	if login.Type != databridge.ResponseLoginOK {
		t.Fatalf("login: %+v", login)
	}

	pc, err := net.Dial("tcp", m.Binary.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	pub := &binaryConn{t: t, c: pc, r: bufio.NewReader(pc)}

	now := time.Now().UTC()
	at := now.Add(-time.Hour).UnixMilli()
	reg := databridge.NewRegistry()
	var events []databridge.Event
	add := func(id string, vals map[string]any) {
		d := reg.Lookup(id)
		ev := databridge.Event{StreamID: id, Timestamp: at, Meta: []any{"producer"}, Payload: make([]any, len(d.Payload))}
		if len(d.Meta) == 0 {
			ev.Meta = nil
		}
		for i, a := range d.Payload {
			v, ok := vals[a.Name]
			switch {
			case ok:
				ev.Payload[i] = v
			case a.Type == databridge.LONG: // a null LONG misaligns the frame (REFERENCE §1)
				ev.Payload[i] = int64(0)
			case a.Type == databridge.BOOL:
				ev.Payload[i] = false
			}
		}
		events = append(events, ev)
	}
	for _, v := range []string{"3.0.0", "3.1.0", "3.2.0"} {
		for i := 0; i < 10; i++ {
			code := int32(200)
			if i < 2 {
				code = 404
			}
			add(databridge.StreamRequest+":"+v, map[string]any{"apiName": "PizzaShackAPI", "apiVersion": "1.0.0",
				"apiCreatorTenantDomain": "carbon.super", "applicationName": "DefaultApplication", "username": "admin",
				"requestTimestamp": at, "responseTime": int64(40 + i), "responseCode": code, "apiMethod": "GET"})
		}
		for _, code := range []string{"900901", "101504", "500"} {
			add(databridge.StreamFault+":"+v, map[string]any{"apiName": "PizzaShackAPI", "apiCreatorTenantDomain": "carbon.super",
				"errorCode": code, "errorMessage": "x", "requestTimestamp": at})
		}
		for i := 0; i < 2; i++ {
			add(databridge.StreamThrottle+":"+v, map[string]any{"apiName": "PizzaShackAPI", "apiCreatorTenantDomain": "carbon.super",
				"throttledOutReason": "APPLICATION_LIMIT_EXCEEDED", "throttledOutTimestamp": at})
		}
	}
	add("loganalyzer:1.0.0", map[string]any{"class": "org.wso2.carbon.apimgt.gateway.handlers.security.APIAuthenticationHandler",
		"content": "API authentication failure due to Invalid Credentials", "level": "WARN", "instance": "gw-1", "eventTimeStamp": at})
	for i := 0; i < len(events); i += 20 {
		frame, err := databridge.AppendPublishFrame(nil, login.SessionID, reg, events[i:min(i+20, len(events))])
		if err != nil {
			t.Fatal(err)
		}
		if resp := pub.do(frame); resp.Type != databridge.ResponseOK {
			t.Fatalf("publish: %+v", resp)
		}
	}

	c := &client{t: t, base: m.URL(), user: "admin", pass: "secret-test-password"}
	waitFlushed(t, c, 45, now)
	var s summaryAnswer
	c.getJSON("/api/v1/traffic/summary?from="+url.QueryEscape(now.Add(-2*time.Hour).Format(time.RFC3339))+"&to="+url.QueryEscape(now.Format(time.RFC3339)), &s)
	want := summaryAnswer{Requests: 45, Successful: 24, Faults: 9, Throttled: 6, Errors4xx: 15, Errors5xx: 6}
	if s.Requests != want.Requests || s.Successful != want.Successful || s.Faults != want.Faults || s.Throttled != want.Throttled ||
		s.Errors4xx != want.Errors4xx || s.Errors5xx != want.Errors5xx {
		t.Errorf("summary %+v, want %+v", s, want)
	}
	page, err := m.Store.Logs(ctx, apilens.LogQuery{From: now.Add(-2 * time.Hour), To: now, Source: "gw-1"})
	if err != nil || len(page.Records) != 1 || page.Records[0].Category != apilens.LogAccessToken {
		t.Errorf("log records %+v %v", page, err)
	}
}
