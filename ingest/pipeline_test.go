package ingest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/spool"
)

// fakeStore keeps what flushes it was given, and fails while down is set.
type fakeStore struct {
	mu       sync.Mutex
	down     bool
	offsets  map[string]int64
	requests map[apilens.Granularity]int64 // sum of the total family's requests
	raw      int
}

func (s *fakeStore) ApplyFlush(ctx context.Context, f *apilens.Flush) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return errors.New("database is down")
	}
	s.offsets[f.Stream] = f.Offset
	for _, r := range f.Rows {
		if r.Family == apilens.FamilyTotal {
			s.requests[r.Gran] += r.Requests
		}
	}
	for _, b := range f.Raw {
		s.raw += b.Count
	}
	return nil
}

func (s *fakeStore) StreamOffset(ctx context.Context, stream string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offsets[stream], nil
}

func (s *fakeStore) IdempotencyKeys(ctx context.Context, since time.Time) ([]apilens.IdempotencyKey, error) {
	return nil, nil
}

func (s *fakeStore) counts() (hour, day int64, raw int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[apilens.Hour], s.requests[apilens.Day], s.raw
}

func TestDatabaseDownKeepsAcknowledgingAndCatchesUp(t *testing.T) {
	sp, err := spool.Open(spool.Options{Dir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	store := &fakeStore{down: true, offsets: map[string]int64{}, requests: map[apilens.Granularity]int64{}}
	p := New(Options{
		Log: SpoolLog(sp), Store: store,
		FlushInterval: 20 * time.Millisecond, CoarseInterval: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	var ps Parser
	var events []byte
	n := 0
	if _, err := ps.Each([]byte(goodResponse+"\n"+goodFault+"\n"), func(e *apilens.Event) {
		events = apilens.AppendEvent(events, e)
		n++
	}); err != nil {
		t.Fatal(err)
	}
	sent := 0
	for i := 0; i < 50; i++ {
		dup, err := p.Submit(context.Background(), "gw", string(rune('a'+i%26))+string(rune('a'+i/26)), events, n)
		if err != nil || dup {
			t.Fatalf("submit %d while the database is down: dup=%v err=%v", i, dup, err)
		}
		sent += n
	}
	if dup, _ := p.Submit(context.Background(), "gw", "aa", events, n); !dup {
		t.Fatal("a retried key was not recognized")
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := p.Lag(); err == nil {
		t.Fatal("Lag reports no error while flushes fail")
	}

	store.mu.Lock()
	store.down = false
	store.mu.Unlock()
	deadline := time.Now().Add(15 * time.Second)
	for {
		hour, day, raw := store.counts()
		if hour == int64(sent) && day == int64(sent) && raw == sent {
			break
		}
		if hour > int64(sent) || day > int64(sent) || raw > sent || time.Now().After(deadline) {
			t.Fatalf("after recovery: hour %d, day %d, raw %d; want %d each", hour, day, raw, sent)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := p.Lag(); err != nil {
		t.Fatalf("Lag still reports %v after recovery", err)
	}
}
