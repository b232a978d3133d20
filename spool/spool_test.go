package spool

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// logBuffer collects log output for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// openSpool opens a spool that the test closes at cleanup. Its log goes to
// the returned buffer.
func openSpool(t testing.TB, opts Options) (*Spool, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	if opts.Logger == nil {
		opts.Logger = logs.logger()
	}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, logs
}

// payload returns the deterministic payload of record id: its id followed
// by bytes derived from it, 8 to 8+size bytes long.
func payload(id, size int) []byte {
	b := make([]byte, 8+size)
	binary.LittleEndian.PutUint64(b, uint64(id))
	for j := 8; j < len(b); j++ {
		b[j] = byte(id*7 + j*31)
	}
	return b
}

// payloadOf is the payload of record id with a size that varies with id.
func payloadOf(id int) []byte { return payload(id, (id*37)%700) }

// checkPayload fails unless data is payloadOf some id, which it returns.
func checkPayload(t testing.TB, data []byte) int {
	t.Helper()
	if len(data) < 8 {
		t.Fatalf("record of %d bytes is not a test payload", len(data))
	}
	id := int(binary.LittleEndian.Uint64(data))
	if !bytes.Equal(data, payloadOf(id)) {
		t.Fatalf("record with id %d has the wrong contents", id)
	}
	return id
}

// appendIDs appends the payloads of ids first..first+n-1, a few per call,
// and returns the records' positions.
func appendIDs(t testing.TB, s *Spool, first, n int) []Record {
	t.Helper()
	var recs []Record
	for id := first; id < first+n; {
		k := min(1+id%13, first+n-id)
		var ps [][]byte
		for j := range k {
			ps = append(ps, payloadOf(id+j))
		}
		end, err := s.Append(context.Background(), ps...)
		if err != nil {
			t.Fatal(err)
		}
		start := end
		for _, p := range ps {
			start -= headerSize + int64(len(p))
		}
		for _, p := range ps {
			r := Record{Offset: start, End: start + headerSize + int64(len(p)), Data: p}
			recs = append(recs, r)
			start = r.End
		}
		id += k
	}
	return recs
}

// readAll reads every available record from position from.
func readAll(t testing.TB, s *Spool, from int64) []Record {
	t.Helper()
	r := s.Reader(from)
	defer r.Close()
	var recs []Record
	for {
		rec, ok, err := r.TryNext()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return recs
		}
		recs = append(recs, rec)
	}
}

// sameRecords fails unless got and want hold the same positions and data.
func sameRecords(t testing.TB, got, want []Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Offset != w.Offset || g.End != w.End || !bytes.Equal(g.Data, w.Data) {
			t.Fatalf("record %d: got [%d,%d) %d bytes, want [%d,%d) %d bytes (data equal: %v)",
				i, g.Offset, g.End, len(g.Data), w.Offset, w.End, len(w.Data), bytes.Equal(g.Data, w.Data))
		}
	}
}

func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name   string
		memory int64
	}{{"memory", 0}, {"disk", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, _ := openSpool(t, Options{Dir: dir, SegmentBytes: 4096, MemoryBytes: tc.memory})
			want := appendIDs(t, s, 0, 2000)

			st := s.Stats()
			if st.Segments < 10 || st.Segments != len(segmentFiles(t, dir)) {
				t.Errorf("Segments = %d with %d files, want at least 10 and equal", st.Segments, len(segmentFiles(t, dir)))
			}
			if st.EndOffset != want[len(want)-1].End || st.FirstOffset != 0 || st.DiskBytes != st.EndOffset {
				t.Errorf("Stats = %+v, want EndOffset = DiskBytes = %d, FirstOffset 0", st, want[len(want)-1].End)
			}
			if st.Records != 2000 {
				t.Errorf("Records = %d, want 2000", st.Records)
			}
			for _, f := range segmentFiles(t, dir) {
				if fi, _ := os.Stat(f); fi.Size() > 4096 {
					t.Errorf("segment %s is %d bytes, more than SegmentBytes", f, fi.Size())
				}
			}
			sameRecords(t, readAll(t, s, 0), want)
			sameRecords(t, readAll(t, s, want[1234].Offset), want[1234:])
			// A position inside a record starts at the next one.
			sameRecords(t, readAll(t, s, want[1234].Offset+3), want[1235:])
			// Past the end: the reader waits at the end.
			r := s.Reader(st.EndOffset + 100)
			if _, ok, err := r.TryNext(); ok || err != nil || r.Offset() != st.EndOffset {
				t.Errorf("reader past the end: ok=%v err=%v offset %d, want none at %d", ok, err, r.Offset(), st.EndOffset)
			}
			r.Close()
			if tc.memory == 1 && s.Stats().DiskReads == 0 {
				t.Error("DiskReads = 0 with no memory window")
			}
		})
	}
}

func TestLargeRecords(t *testing.T) {
	// Records bigger than a segment, the coalescing buffer and the read
	// buffer each get a segment of their own.
	s, _ := openSpool(t, Options{Dir: t.TempDir(), SegmentBytes: 1 << 20, MemoryBytes: 1})
	var want []Record
	var pos int64
	for i, size := range []int{10, 3 << 20, 100, 5 << 20, 1 << 20, 7} {
		p := payload(i, size)
		end, err := s.Append(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, Record{Offset: pos, End: end, Data: p})
		pos = end
	}
	sameRecords(t, readAll(t, s, 0), want)
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	s, _ := openSpool(t, Options{Dir: dir, SegmentBytes: 4096})
	want := appendIDs(t, s, 0, 500)
	end := s.Stats().EndOffset
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, _ = openSpool(t, Options{Dir: dir, SegmentBytes: 4096})
	if st := s.Stats(); st.EndOffset != end || st.TornBytes != 0 || st.CorruptRecords != 0 {
		t.Fatalf("after reopen Stats = %+v, want EndOffset %d and no damage", st, end)
	}
	more := appendIDs(t, s, 500, 500)
	if more[0].Offset != end {
		t.Fatalf("first record after reopen at %d, want %d", more[0].Offset, end)
	}
	want = append(want, more...)
	sameRecords(t, readAll(t, s, 0), want)
	s.Close()

	s, _ = openSpool(t, Options{Dir: dir, SegmentBytes: 4096})
	sameRecords(t, readAll(t, s, 0), want)
}

func TestStartOffset(t *testing.T) {
	const start = 1 << 40
	dir := t.TempDir()
	s, logs := openSpool(t, Options{Dir: dir, StartOffset: start})
	p := payloadOf(1)
	end, err := s.Append(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(start + headerSize + len(p)); end != want {
		t.Fatalf("end = %d, want %d", end, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "00000001099511627776.seg")); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, s, 0)
	sameRecords(t, got, []Record{{Offset: start, End: end, Data: p}})
	if !strings.Contains(logs.String(), "before the first retained record") {
		t.Errorf("no warning about the gap before the first record; log:\n%s", logs)
	}
	s.Close()

	// A lower StartOffset does not matter once there are segments.
	s, _ = openSpool(t, Options{Dir: dir, StartOffset: 5})
	if st := s.Stats(); st.FirstOffset != start || st.EndOffset != end {
		t.Fatalf("Stats = %+v, want FirstOffset %d EndOffset %d", st, int64(start), end)
	}
	s.Close()

	// Segments that end before StartOffset were covered by the consumer.
	s, logs = openSpool(t, Options{Dir: dir, StartOffset: end + 1000})
	if st := s.Stats(); st.FirstOffset != end+1000 || st.EndOffset != end+1000 || st.Segments != 1 {
		t.Fatalf("Stats = %+v, want one empty segment at %d", st, end+1000)
	}
	if !strings.Contains(logs.String(), "end before StartOffset") {
		t.Errorf("no warning about deleted segments; log:\n%s", logs)
	}
	end2, err := s.Append(context.Background(), p)
	if err != nil || end2 != end+1000+headerSize+int64(len(p)) {
		t.Fatalf("Append = %d, %v, want %d", end2, err, end+1000+headerSize+int64(len(p)))
	}
}

func TestRelease(t *testing.T) {
	dir := t.TempDir()
	s, logs := openSpool(t, Options{Dir: dir, SegmentBytes: 4096})
	want := appendIDs(t, s, 0, 1000)
	end := want[len(want)-1].End
	before := s.Stats().Segments

	at := want[500].Offset
	if err := s.Release(at); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Segments >= before || st.Segments != len(segmentFiles(t, dir)) {
		t.Errorf("after Release Segments = %d (%d files), want fewer than %d", st.Segments, len(segmentFiles(t, dir)), before)
	}
	if st.FirstOffset > at || st.DiskBytes != end-at || st.ReleasedOffset != at {
		t.Errorf("after Release(%d) Stats = %+v", at, st)
	}
	// The records from the first retained segment on are still there.
	got := readAll(t, s, 0)
	if len(got) == 0 || got[0].Offset != st.FirstOffset {
		t.Fatalf("reader from 0 starts at %v, want %d", got[0].Offset, st.FirstOffset)
	}
	sameRecords(t, got[len(got)-500:], want[500:])
	if !strings.Contains(logs.String(), "bytes_skipped="+strconv.FormatInt(st.FirstOffset, 10)) {
		t.Errorf("no warning with the gap; log:\n%s", logs)
	}

	if err := s.Release(end + 1); err == nil {
		t.Error("Release past the end succeeded")
	}
	if err := s.Release(10); err != nil || s.Stats().ReleasedOffset != at {
		t.Errorf("Release of an earlier position: %v, released %d", err, s.Stats().ReleasedOffset)
	}
	if err := s.Release(end); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Segments != 1 || st.DiskBytes != 0 {
		t.Errorf("after releasing everything Stats = %+v, want one segment and no bytes", st)
	}
	more := appendIDs(t, s, 1000, 10)
	if more[0].Offset != end {
		t.Errorf("positions restarted at %d, want %d", more[0].Offset, end)
	}
	s.Close()

	s, _ = openSpool(t, Options{Dir: dir, SegmentBytes: 4096})
	sameRecords(t, readAll(t, s, end), more)
	if st := s.Stats(); st.EndOffset != more[9].End || st.ReleasedOffset != st.FirstOffset {
		t.Errorf("after reopen Stats = %+v", st)
	}
}

func TestReleaseUnderReader(t *testing.T) {
	// A reader that is behind when its segments are released finishes the
	// segment it has open, then skips to the first retained record.
	s, logs := openSpool(t, Options{Dir: t.TempDir(), SegmentBytes: 4096, MemoryBytes: 1})
	want := appendIDs(t, s, 0, 500)
	r := s.Reader(0)
	defer r.Close()
	first, ok, err := r.TryNext()
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	got := []Record{first}
	at := want[400].Offset
	if err := s.Release(at); err != nil {
		t.Fatal(err)
	}
	for {
		rec, ok, err := r.TryNext()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		got = append(got, rec)
	}
	firstKept := s.Stats().FirstOffset
	var i int
	for i < len(got) && got[i].Offset < firstKept {
		i++
	}
	if i == 0 || i == len(got) {
		t.Fatalf("read %d records, %d before the first retained one", len(got), i)
	}
	sameRecords(t, got[:i], want[:i])
	var j int
	for want[j].Offset != firstKept {
		j++
	}
	sameRecords(t, got[i:], want[j:])
	if !strings.Contains(logs.String(), "fell behind released records") {
		t.Errorf("no warning about skipped records; log:\n%s", logs)
	}
}

func TestFull(t *testing.T) {
	s, _ := openSpool(t, Options{Dir: t.TempDir(), MaxBytes: 10_000, SegmentBytes: 2048})
	p := make([]byte, 1000-headerSize)
	p[0] = 1
	var ends []int64
	for range 10 {
		end, err := s.Append(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, end)
	}
	if _, err := s.Append(context.Background(), p); !errors.Is(err, ErrFull) {
		t.Fatalf("Append past MaxBytes: %v, want ErrFull", err)
	}
	if err := s.Release(ends[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(context.Background(), p, p); !errors.Is(err, ErrFull) {
		t.Fatalf("Append of two past MaxBytes: %v, want ErrFull", err)
	}
	if _, err := s.Append(context.Background(), p); err != nil {
		t.Fatalf("Append after Release: %v", err)
	}
	if st := s.Stats(); st.DiskBytes != 10_000 {
		t.Errorf("DiskBytes = %d, want 10000", st.DiskBytes)
	}
}

func TestAppendErrors(t *testing.T) {
	s, _ := openSpool(t, Options{Dir: t.TempDir()})
	ctx := context.Background()
	if _, err := s.Append(ctx, []byte("a"), nil); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty payload: %v", err)
	}
	if _, err := s.Append(ctx, make([]byte, MaxRecordBytes+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("large payload: %v, want ErrTooLarge", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Append(canceled, []byte("a")); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
	end, err := s.Append(ctx, []byte("abc"))
	if err != nil || end != headerSize+3 {
		t.Fatalf("Append = %d, %v", end, err)
	}
	if e, err := s.Append(ctx); e != end || err != nil {
		t.Errorf("Append with no payloads = %d, %v, want %d", e, err, end)
	}
	// The caller may reuse its buffer as soon as Append returns.
	buf := []byte("xyz")
	if _, err := s.Append(ctx, buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "!!!")
	got := readAll(t, s, 0)
	if len(got) != 2 || string(got[0].Data) != "abc" || string(got[1].Data) != "xyz" {
		t.Errorf("read %+v", got)
	}
	// Data is capped, so appending to it cannot clobber the next record.
	_ = append(got[0].Data, '!')
	if got := readAll(t, s, 0); string(got[1].Data) != "xyz" {
		t.Errorf("second record is %q after appending to the first", got[1].Data)
	}
}

func TestClose(t *testing.T) {
	dir := t.TempDir()
	s, _ := openSpool(t, Options{Dir: dir})
	if _, err := Open(Options{Dir: dir}); err == nil {
		t.Fatal("second Open of the same directory succeeded")
	}
	end, err := s.Append(context.Background(), []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	r := s.Reader(0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Append(context.Background(), []byte("b")); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: %v", err)
	}
	if err := s.Release(end); !errors.Is(err, ErrClosed) {
		t.Errorf("Release after Close: %v", err)
	}
	if _, _, err := r.TryNext(); !errors.Is(err, ErrClosed) {
		t.Errorf("TryNext after Close: %v", err)
	}
	if _, err := r.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close: %v", err)
	}
	s, _ = openSpool(t, Options{Dir: dir})
	if got := readAll(t, s, 0); len(got) != 1 || got[0].End != end {
		t.Errorf("after reopen read %v", got)
	}
}

func TestNextWakes(t *testing.T) {
	s, _ := openSpool(t, Options{Dir: t.TempDir()})
	ctx := context.Background()
	r := s.Reader(0)
	defer r.Close()

	got := make(chan Record)
	errc := make(chan error, 1)
	go func() {
		for range 3 {
			rec, err := r.Next(ctx)
			if err != nil {
				errc <- err
				return
			}
			got <- rec
		}
	}()
	for i := range 3 {
		select {
		case rec := <-got:
			t.Fatalf("Next returned %v before any Append", rec)
		case <-time.After(20 * time.Millisecond):
		}
		if _, err := s.Append(ctx, payloadOf(i)); err != nil {
			t.Fatal(err)
		}
		select {
		case rec := <-got:
			if id := checkPayload(t, rec.Data); id != i {
				t.Fatalf("Next returned id %d, want %d", id, i)
			}
		case err := <-errc:
			t.Fatal(err)
		case <-time.After(5 * time.Second):
			t.Fatal("Next did not wake up on Append")
		}
	}
	if s.Stats().DiskReads != 0 {
		t.Errorf("a caught-up reader read the disk %d times", s.Stats().DiskReads)
	}

	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := r.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Next with nothing to read: %v, want DeadlineExceeded", err)
	}

	go func() {
		_, err := r.Next(ctx)
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	s.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Next blocked across Close: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake a blocked Next")
	}
}

// TestConcurrent runs appenders and a slow reader that falls out of the
// memory window: it must still read every record, in order, from disk.
func TestConcurrent(t *testing.T) {
	const writers, each = 8, 300
	s, _ := openSpool(t, Options{Dir: t.TempDir(), SegmentBytes: 64 << 10, MemoryBytes: 32 << 10})
	ctx := context.Background()

	var wg sync.WaitGroup
	ends := make([][]int64, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				end, err := s.Append(ctx, payloadOf(w*each+i))
				if err != nil {
					t.Error(err)
					return
				}
				ends[w] = append(ends[w], end)
			}
		}()
	}

	r := s.Reader(0)
	defer r.Close()
	seen := make(map[int]int64)
	var pos int64
	for len(seen) < writers*each {
		rec, err := r.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Offset != pos {
			t.Fatalf("record at %d, want %d", rec.Offset, pos)
		}
		pos = rec.End
		id := checkPayload(t, rec.Data)
		if _, dup := seen[id]; dup {
			t.Fatalf("record %d read twice", id)
		}
		seen[id] = rec.End
		if len(seen) < 200 {
			time.Sleep(time.Millisecond) // fall behind the memory window
		}
	}
	wg.Wait()
	for w := range writers {
		for i, end := range ends[w] {
			if seen[w*each+i] != end {
				t.Fatalf("record %d acknowledged at %d, read at %d", w*each+i, end, seen[w*each+i])
			}
		}
	}
	st := s.Stats()
	if st.Syncs >= st.Appends {
		t.Errorf("Syncs = %d for %d Appends: no group commit", st.Syncs, st.Appends)
	}
	if st.DiskReads == 0 {
		t.Error("the slow reader never read from disk")
	}
	if st.MemoryBytes > 32<<10 {
		t.Errorf("MemoryBytes = %d, over the bound", st.MemoryBytes)
	}
	t.Logf("%d appends, %d syncs, %d disk reads", st.Appends, st.Syncs, st.DiskReads)
}
