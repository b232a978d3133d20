package simulate

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/databridge"
)

// countingSink stores nothing and counts the events a receiver made
// durable.
type countingSink struct {
	mu sync.Mutex
	n  int
}

func (s *countingSink) Submit(_ context.Context, _, _ string, _ []byte, n int) (bool, error) {
	s.mu.Lock()
	s.n += n
	s.mu.Unlock()
	return false, nil
}

// TestRunThroughPublisher: a run with receiver URLs sends its events over
// the data-bridge binary transport, every one of them, and reports them.
func TestRunThroughPublisher(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sink := &countingSink{}
	core := databridge.NewCore(databridge.CoreOptions{
		Auth: func(_ context.Context, user, password string) (*apilens.User, error) {
			return &apilens.User{Name: user, Roles: []string{apilens.RolePublisher}}, nil
		},
		Events: sink, Logger: quiet,
	})
	srv := databridge.NewBinaryServer(core, databridge.BinaryOptions{Addr: "127.0.0.1:0"})
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	addr := srv.Addr().String()

	var progress bytes.Buffer
	st, err := Run(context.Background(), RunOptions{
		Options:      Options{Seed: 3},
		ReceiverURLs: "tcp://" + addr, AuthURLs: "tcp://" + addr, Transport: "binary",
		User: "gw", Password: "pw", Count: 3000, BatchSize: 200,
		Progress: &progress, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 3000 || st.Accepted != 3000 || st.Unsent != 0 || st.Batches != 15 || sink.n != 3000 {
		t.Errorf("stats %+v, receiver stored %d: want 3000 sent in 15 batches", st, sink.n)
	}
	if !strings.Contains(progress.String(), "sent 3000 events in 15 batches") {
		t.Errorf("summary line: %q", progress.String())
	}

	if _, err := Run(context.Background(), RunOptions{ReceiverURLs: "tcp://" + addr, Logs: &LogRun{}}); err == nil {
		t.Error("a run of logs through receiver URLs did not fail")
	}
	if _, err := Run(context.Background(), RunOptions{ReceiverURLs: "tcp://a:1|tcp://b:1,tcp://c:1"}); err == nil || !strings.Contains(err.Error(), "mixes") {
		t.Errorf("bad receiver URLs: %v", err)
	}
}

// TestRunThroughPublisherHTTP: with http:// receiver URLs the publisher
// posts the same NDJSON as the default path.
func TestRunThroughPublisherHTTP(t *testing.T) {
	var mu sync.Mutex
	lines := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		lines += bytes.Count(body, []byte("\n"))
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"accepted":100}`)
	}))
	defer srv.Close()
	st, err := Run(context.Background(), RunOptions{ReceiverURLs: srv.URL, Count: 1000, BatchSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if st.Sent != 1000 || lines != 1000 {
		t.Errorf("stats %+v, %d lines posted: want 1000", st, lines)
	}
}
