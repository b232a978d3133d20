package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/databridge"
	"github.com/apilens/apilens/simulate"
	"github.com/apilens/apilens/web"
)

// TestSimulateOverDatabridge runs `apilens simulate --receiver-urls …`
// against a real server, over the binary and the Thrift transport: the
// publisher logs in on the TLS listener (trusting the certificate
// generated in the data directory, --ca-file) and publishes on the plain
// one; traffic/summary then counts exactly the events simulate made, as
// 3.x stream events turn back into them.
func TestSimulateOverDatabridge(t *testing.T) {
	for _, transport := range []string{"binary", "thrift"} {
		t.Run(transport, func(t *testing.T) { testSimulateOverDatabridge(t, transport) })
	}
}

func testSimulateOverDatabridge(t *testing.T, transport string) {
	dir := t.TempDir()
	m := startServer(t, dir, nil)
	defer m.Close()
	ctx := context.Background()
	h, _ := web.HashPassword("gw-password")
	if err := m.Store.PutUser(ctx, &apilens.User{Name: "gw", PasswordHash: h, Roles: []string{apilens.RolePublisher}, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}

	const n = 3000
	now := time.Now().UTC().Truncate(time.Minute)
	from, to := now.Add(-3*time.Hour), now.Add(-time.Hour)
	// The same seed and window make the same events: what the summary
	// must count.
	o := simulate.RunOptions{Options: simulate.Options{Seed: 7, APIs: 10, Applications: 30}, BackfillFrom: from, BackfillTo: to, BatchSize: 200}
	var events []apilens.Event
	for _, body := range simulate.GenerateBodies(o, n) {
		dec := json.NewDecoder(bytes.NewReader(body))
		for dec.More() {
			var e apilens.Event
			if err := dec.Decode(&e); err != nil {
				t.Fatal(err)
			}
			events = append(events, e)
		}
	}
	want, _ := bruteForce(events, from, to, nil)

	// The auth URL is the TLS listener, named localhost as the generated
	// certificate is.
	plain, secure := m.Binary.Addr(), m.Binary.TLSAddr()
	if transport == "thrift" {
		plain, secure = m.Thrift.Addr(), m.Thrift.TLSAddr()
	}
	_, tlsPort, _ := strings.Cut(secure.String(), "127.0.0.1:")
	var stderr bytes.Buffer
	env := &cmdEnv{stdout: &stderr, stderr: &stderr, getenv: func(string) string { return "" }, environ: func() []string { return nil }}
	err := runSimulate(ctx, env, []string{
		"--receiver-urls", "tcp://" + plain.String(),
		"--auth-urls", "ssl://localhost:" + tlsPort,
		"--transport", transport, "--ca-file", filepath.Join(dir, databridge.CertFile),
		"--user", "gw", "--password", "gw-password",
		"--seed", "7", "--apis", "10", "--applications", "30", "--batch", "200",
		"--count", "3000", "--backfill-from", from.Format(time.RFC3339), "--backfill-to", to.Format(time.RFC3339),
	})
	if err != nil {
		t.Fatalf("simulate: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "sent 3000 events in 15 batches") {
		t.Errorf("simulate's summary line:\n%s", stderr.String())
	}

	c := &client{t: t, base: m.URL(), user: "admin", pass: "secret-test-password"}
	waitFlushed(t, c, n, now)
	var s summaryAnswer
	c.getJSON("/api/v1/traffic/summary?from="+url.QueryEscape(from.Format(time.RFC3339))+"&to="+url.QueryEscape(to.Format(time.RFC3339)), &s)
	if s.Requests != want.Requests || s.Successful != want.Successful || s.Faults != want.Faults || s.Throttled != want.Throttled ||
		s.Errors4xx != want.Errors4xx || s.Errors5xx != want.Errors5xx {
		t.Errorf("summary %+v, want %+v", s, want)
	}
}
