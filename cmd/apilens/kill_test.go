package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/ingest"
	"github.com/apilens/apilens/simulate"
)

// buildBinary builds cmd/apilens once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "apilens")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startProcess starts `apilens server` and waits until it is ready.
func startProcess(t *testing.T, bin, dataDir, addr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "server", "--data-dir", dataDir, "--http-addr", addr)
	cmd.Env = append(os.Environ(), "APILENS_ADMIN_USER=admin", "APILENS_ADMIN_PASSWORD=kill-test-password",
		"APILENS_INGEST_FLUSH_INTERVAL=300ms", "APILENS_INGEST_COARSE_FLUSH_INTERVAL=700ms",
		// Not the fixed data-bridge ports, which a test running beside this one may hold.
		"APILENS_DATABRIDGE_BINARY_ADDR=127.0.0.1:0", "APILENS_DATABRIDGE_BINARY_TLS_ADDR=127.0.0.1:0",
		"APILENS_DATABRIDGE_THRIFT_ADDR=127.0.0.1:0", "APILENS_DATABRIDGE_THRIFT_TLS_ADDR=127.0.0.1:0")
	logf, err := os.OpenFile(filepath.Join(dataDir, "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(dataDir, "server.log"))
	t.Fatalf("server did not become ready:\n%s", log)
	return nil
}

// TestKill9KeepsEveryAcknowledgedEventOnce posts batches from several
// publishers while the server is killed with SIGKILL at random moments.
// Publishers retry every batch that was not acknowledged with the same
// Idempotency-Key (and some that were), as a gateway would. In the end the
// summary counts each batch exactly once, and the percentiles are within
// 1% of the exact ones.
func TestKill9KeepsEveryAcknowledgedEventOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it repeatedly")
	}
	bin := buildBinary(t)
	dataDir := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr

	// Pre-generate the batches: 4 publishers × 30 batches × 300 events.
	const publishers, batches, perBatch = 4, 30, 300
	now := time.Now().UTC()
	type batch struct {
		key    string
		body   []byte
		events []apilens.Event
	}
	var all [publishers][]batch
	var ps ingest.Parser
	for p := 0; p < publishers; p++ {
		gen := simulate.NewGenerator(simulate.Options{Seed: uint64(p + 1), APIs: 8, Applications: 20})
		rng := rand.New(rand.NewPCG(uint64(p), 9))
		for b := 0; b < batches; b++ {
			var body []byte
			var e apilens.Event
			for i := 0; i < perBatch; i++ {
				gen.Next(&e, now.Add(-time.Duration(rng.Int64N(int64(2*time.Hour)))))
				body = simulate.AppendNDJSON(body, &e)
			}
			body = append(body, "not json\n"...)
			evs, _, _ := ps.ParseEvents(body, nil)
			all[p] = append(all[p], batch{fmt.Sprintf("p%d-b%d", p, b), body, evs})
		}
	}

	post := func(b batch) (acked bool) {
		req, _ := http.NewRequest("POST", base+"/api/v1/events", bytes.NewReader(b.body))
		req.SetBasicAuth("admin", "kill-test-password")
		req.Header.Set("Idempotency-Key", b.key)
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var ack struct{ Accepted int }
		json.NewDecoder(resp.Body).Decode(&ack)
		if resp.StatusCode != 202 {
			return false
		}
		if ack.Accepted != perBatch {
			t.Errorf("batch %s: accepted %d, want %d", b.key, ack.Accepted, perBatch)
		}
		return true
	}

	cmd := startProcess(t, bin, dataDir, addr)
	var mu sync.Mutex
	next := make([]int, publishers)
	kills := 0
	for round := 0; ; round++ {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for p := 0; p < publishers; p++ {
			wg.Add(1)
			go func(p int) {
				defer wg.Done()
				for {
					mu.Lock()
					i := next[p]
					mu.Unlock()
					if i >= batches {
						return
					}
					select {
					case <-stop:
						return
					default:
					}
					if !post(all[p][i]) {
						time.Sleep(20 * time.Millisecond)
						continue // the server is down: retry the same batch after the restart
					}
					// Retry some acknowledged batches too: a lost acknowledgement.
					if i%5 == 0 {
						post(all[p][i])
					}
					mu.Lock()
					next[p] = i + 1
					mu.Unlock()
				}
			}(p)
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		killAfter := time.Duration(300+rand.IntN(700)) * time.Millisecond
		if kills >= 5 {
			killAfter = time.Hour // enough: let the publishers finish
		}
		select {
		case <-done:
		case <-time.After(killAfter):
			// SIGKILL while batches are in flight.
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			kills++
			close(stop)
			wg.Wait()
			cmd = startProcess(t, bin, dataDir, addr)
			continue
		}
		break
	}
	defer func() { cmd.Process.Signal(syscall.SIGKILL); cmd.Wait() }()
	if kills < 2 {
		t.Logf("only %d kills happened", kills)
	}

	var posted []apilens.Event
	for p := range all {
		for _, b := range all[p] {
			posted = append(posted, b.events...)
		}
	}
	c := &client{t: t, base: base, user: "admin", pass: "kill-test-password"}
	waitFlushed(t, c, int64(len(posted)), now)
	var got summaryAnswer
	from, to := now.Add(-3*time.Hour), now.Add(time.Hour)
	c.getJSON("/api/v1/traffic/summary?from="+url.QueryEscape(from.Format(time.RFC3339))+"&to="+url.QueryEscape(to.Format(time.RFC3339)), &got)
	want, lat := bruteForce(posted, got.From, got.To, nil)
	if got.Requests != want.Requests || got.Successful != want.Successful || got.Faults != want.Faults || got.Throttled != want.Throttled {
		t.Errorf("after %d kills: got %+v, want %+v", kills, got, want)
	}
	checkQuantile(t, "after kills", lat, 0.5, got.Latency.P50)
	checkQuantile(t, "after kills", lat, 0.95, got.Latency.P95)
	checkQuantile(t, "after kills", lat, 0.99, got.Latency.P99)
	t.Logf("%d events in %d batches, %d kills: counted %d", len(posted), publishers*batches, kills, got.Requests)
}
