package spool

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// killDirEnv tells the test binary to run as TestKill's child, appending
// to the spool in that directory.
const killDirEnv = "APILENS_SPOOL_KILL_DIR"

// TestKillChild is the child process of TestKill: it appends records from
// several goroutines and prints "id end" for each acknowledged one until
// it is killed.
func TestKillChild(t *testing.T) {
	dir := os.Getenv(killDirEnv)
	if dir == "" {
		t.Skip("runs only as the child process of TestKill")
	}
	// If the parent is gone, do not linger.
	time.AfterFunc(30*time.Second, func() { os.Exit(3) })
	s, err := Open(Options{Dir: dir, SegmentBytes: 256 << 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var (
		mu   sync.Mutex
		next atomic.Int64
	)
	for range 8 {
		go func() {
			for {
				id := int(next.Add(1) - 1)
				end, err := s.Append(context.Background(), payloadOf(id))
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				mu.Lock()
				// One write per line: a line the parent reads is whole.
				fmt.Fprintf(os.Stdout, "%d %d\n", id, end)
				mu.Unlock()
			}
		}()
	}
	select {}
}

// TestKill kills a process that is appending with SIGKILL and checks that
// every record it acknowledged is in the spool, intact.
func TestKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), killDirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timeout := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
	defer timeout.Stop()

	acked := make(map[int]int64)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var id int
		var end int64
		if _, err := fmt.Sscanf(sc.Text(), "%d %d", &id, &end); err != nil {
			t.Errorf("child printed %q", sc.Text())
			continue
		}
		acked[id] = end
		if len(acked) == 1000 {
			cmd.Process.Kill() // SIGKILL on Unix
		}
	}
	err = cmd.Wait()
	if len(acked) < 1000 {
		t.Fatalf("child stopped after %d acknowledgements: %v\n%s", len(acked), err, stderr.Bytes())
	}

	s, logs := openSpool(t, Options{Dir: dir, SegmentBytes: 256 << 10})
	byEnd := make(map[int64]int)
	var pos int64
	for _, rec := range readAll(t, s, 0) {
		if rec.Offset != pos {
			t.Fatalf("record at %d, want %d", rec.Offset, pos)
		}
		pos = rec.End
		byEnd[rec.End] = checkPayload(t, rec.Data)
	}
	for id, end := range acked {
		got, ok := byEnd[end]
		if !ok || got != id {
			t.Fatalf("acknowledged record %d ending at %d is missing (found %v, %v)", id, end, got, ok)
		}
	}
	st := s.Stats()
	t.Logf("%d acknowledged, %d recovered, %d torn bytes dropped", len(acked), len(byEnd), st.TornBytes)
	if st.TornBytes > 0 && !bytes.Contains([]byte(logs.String()), []byte("torn tail")) {
		t.Errorf("torn bytes dropped without a warning")
	}
}
