// Package spool is the durable buffer between the receivers and the rollup
// consumer: an append-only log of opaque records in segment files, written
// with group-committed fsync, with a bounded in-memory window of recent
// records for readers that keep up, and a recovery at Open that never
// refuses to start because of a torn tail.
//
// # Positions
//
// A position is a logical byte offset across every segment the spool has
// written. The record at Offset occupies [Offset, End), End = Offset + 8 +
// len(Data), and the next record starts at End. Append returns the End of
// its last record. The consumer stores the End of the last record a flush
// covered together with the flush; after a restart it passes that position
// to Release and Reader. Positions only grow: they continue across segment
// rolls, Release, and reopening, and Options.StartOffset carries them over
// a lost directory.
//
// # File format
//
// Options.Dir holds segment files named by the position of their first
// record as 20 decimal digits ("00000000000067108864.seg"), and a LOCK file
// that keeps a second process out. A segment has no header; it is a
// sequence of records, each
//
//	length   uint32, little endian: payload length, 1..MaxRecordBytes
//	crc      uint32, little endian: CRC-32C (Castagnoli) of the payload
//	payload  length bytes
//
// The record at position p of the segment with base b is at file offset
// p-b. Segments are contiguous: each starts where the previous one ends.
// Empty payloads are not allowed, so an all-zero header (length 0, CRC 0),
// which is what preallocated or never-written space looks like, is never a
// valid record.
//
// # Guarantees
//
//   - Append returns only after an fsync covers its records (and, for a
//     segment it created, the directory). Concurrent Appends share one write
//     and one fsync (group commit): one writer goroutine writes whatever has
//     accumulated while the previous fsync ran, and batches are acknowledged
//     in position order.
//   - A Reader never returns a record before that fsync. Records read from
//     disk have their CRC verified; records served from memory are the
//     bytes that were written.
//   - Open scans every segment and verifies every record. A torn or corrupt
//     tail of the last segment (partial header, length past the end, zero
//     header, CRC mismatch) is truncated away with a warning naming the
//     file, position and bytes dropped. Corruption inside an older segment
//     is logged as an error, counted in Stats.CorruptRecords, and the rest
//     of that segment is skipped; readers jump to the next segment. The
//     file is left as it is for inspection, so the error is logged again
//     at each Open until Release deletes the segment.
//   - Unreleased data is bounded: Append fails fast with ErrFull rather
//     than exceed Options.MaxBytes, and Release frees space.
//   - After a write or fsync error the spool refuses further Appends with
//     that error (the kernel may have dropped the unwritten pages, so a
//     retry could acknowledge data that is not on disk); reopen it to
//     recover.
//
// Release deletes only whole segments, so the disk may hold up to one
// segment more than the unreleased bytes that MaxBytes bounds.
//
// Record.Data is never copied per read and never reused: records from
// memory share the Append's buffer and records from disk share a read
// buffer, so Data stays valid as long as it is referenced but must be
// treated as read-only.
package spool

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"sort"
	"sync"
	"sync/atomic"
)

// MaxRecordBytes is the largest payload Append accepts.
const MaxRecordBytes = 64 << 20

// headerSize is the size of a record's length and CRC.
const headerSize = 8

// Defaults for the zero values of Options.
const (
	DefaultMaxBytes     = 1 << 30
	DefaultMemoryBytes  = 64 << 20
	DefaultSegmentBytes = 64 << 20
)

// Writes are coalesced into one buffer up to maxWriteBuf; a record run at
// least directWrite long is written straight from the Append's buffer.
const (
	maxWriteBuf = 4 << 20
	directWrite = 1 << 20
)

var (
	// ErrFull is returned by Append when accepting the records would take
	// the unreleased data past Options.MaxBytes. It is back-pressure: retry
	// after the consumer has released space.
	ErrFull = errors.New("spool: full")
	// ErrClosed is returned by Append, Release and readers after Close.
	ErrClosed = errors.New("spool: closed")
	// ErrTooLarge is returned by Append for a payload over MaxRecordBytes.
	ErrTooLarge = errors.New("spool: record too large")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Options configure a Spool. Zero values mean the defaults.
type Options struct {
	// Dir is the directory of segment files; it is created if missing.
	Dir string
	// MaxBytes bounds the unreleased bytes (EndOffset minus the released
	// position); Append returns ErrFull past it. Default 1 GiB.
	MaxBytes int64
	// MemoryBytes bounds the recent records kept in memory so that a
	// caught-up reader never touches the disk. Default 64 MiB.
	MemoryBytes int64
	// SegmentBytes is the size past which the writer rolls to a new
	// segment file. A record larger than it gets a segment of its own.
	// Default 64 MiB.
	SegmentBytes int64
	// StartOffset is the position of the first record when Dir holds no
	// segments, so that positions continue after the directory was lost
	// but the database kept its offset. If Dir's segments end before
	// StartOffset, they can only hold records the consumer has already
	// covered: they are deleted (with a warning) and positions continue
	// at StartOffset. Passing the consumer's stored offset is always safe.
	StartOffset int64
	// Logger receives warnings about recovery and skipped records; nil
	// means slog.Default().
	Logger *slog.Logger
}

// Stats is a snapshot of a Spool's state and counters.
type Stats struct {
	DiskBytes      int64  // EndOffset minus ReleasedOffset: what MaxBytes bounds
	Segments       int    // segment files retained
	FirstOffset    int64  // position of the first retained record
	ReleasedOffset int64  // highest position passed to Release (at least FirstOffset)
	EndOffset      int64  // position after the last durable record
	MemoryBytes    int64  // bytes of records held in the in-memory window
	Appends        uint64 // Append calls acknowledged
	Records        uint64 // records acknowledged
	Syncs          uint64 // fsyncs of segment files
	CorruptRecords uint64 // corrupt records found in older segments at Open or while reading
	DiskReads      uint64 // segment file reads by Readers; a caught-up Reader makes none
	TornBytes      int64  // bytes truncated from the tail of the last segment at Open
}

// Spool is a durable, bounded, append-only log of records. Its methods are
// safe for concurrent use.
type Spool struct {
	opts Options
	log  *slog.Logger
	lock *os.File

	wake chan struct{} // a request is pending; capacity 1
	quit chan struct{} // closed by Close
	done chan struct{} // closed when the writer exits

	mu       sync.Mutex
	closed   bool
	failed   error      // sticky write or fsync error
	pending  []*request // accepted, not yet written, in position order
	flights  []*flight  // written, not yet acknowledged, in position order
	reserved int64      // end of the accepted records
	durable  int64      // end of the fsynced records
	released int64
	segs     []segment // retained segments, by base
	ring     ring
	notify   chan struct{} // closed and replaced at each commit

	appends atomic.Uint64
	records atomic.Uint64
	syncs   atomic.Uint64
	corrupt atomic.Uint64
	reads   atomic.Uint64
	torn    atomic.Int64

	// slots holds the indexes of syncFiles free for an fsync; a sync
	// goroutine holds one while it runs.
	slots chan int

	// Owned by the writer goroutine (and by Close after it exits). The
	// writer changes syncFiles only while it holds every slot.
	f         *os.File // the active segment, for writing
	syncFiles [maxSyncs]*os.File
	segBase   int64
	segSize   int64 // bytes written or buffered in the active segment
	wbuf      []byte
}

// maxSyncs is how many fsyncs of the active segment may run at once. With
// two, the next batch is written and its fsync started while one runs, so
// an Append waits for about one fsync instead of the rest of the running
// one plus its own. With one, what arrives during an fsync waits for it and
// goes in the next write and fsync: twice the events an fsync, and the
// kernel's work per fsync (journal commit, device flush) is the same. One
// is the faster under load (measured, docs/design.md): 357,000 and 360,000
// binary events/s acknowledged against 251,000 and 314,000 interleaved,
// 6.0–6.2 µs of server CPU an event against 6.5–7.3.
//
// Each slot fsyncs through its own file descriptor because Linux reports a
// writeback error once per open file description: two fsyncs through one
// descriptor could each see half of the story, and one of them would
// return success for pages that never reached the disk. With a descriptor
// per slot, an fsync reports every error since that slot's previous fsync
// finished, and batches are acknowledged only in order, after every
// earlier batch's fsync has succeeded.
const maxSyncs = 1

// flight is a written batch whose fsync is running or done.
type flight struct {
	reqs []*request
	end  int64
	done bool // its fsync returned
	err  error
}

// segment is a retained segment file. size is its valid length; for the
// active (last) segment it is meaningless and readers go by the durable end.
type segment struct {
	base int64
	size int64
}

// request is one Append on its way to disk.
type request struct {
	buf        []byte // encoded records
	start, end int64
	n          int
	done       chan error
}

// Open opens the spool in opts.Dir, creating the directory if needed and
// recovering from a crash (see the package documentation). It fails if
// another process has the directory open.
func Open(opts Options) (*Spool, error) {
	if opts.Dir == "" {
		return nil, errors.New("open spool: no directory")
	}
	if opts.MaxBytes < 0 || opts.MemoryBytes < 0 || opts.SegmentBytes < 0 || opts.StartOffset < 0 {
		return nil, fmt.Errorf("open spool %q: negative size or offset in options", opts.Dir)
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MemoryBytes == 0 {
		opts.MemoryBytes = DefaultMemoryBytes
	}
	if opts.SegmentBytes == 0 {
		opts.SegmentBytes = DefaultSegmentBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Spool{
		opts:   opts,
		log:    opts.Logger.With("component", "spool", "dir", opts.Dir),
		wake:   make(chan struct{}, 1),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
		notify: make(chan struct{}),
		slots:  make(chan int, maxSyncs),
	}
	for i := range maxSyncs {
		s.slots <- i
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	lock, err := lockDir(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("open spool %q: %w", opts.Dir, err)
	}
	s.lock = lock
	err = s.recover()
	if err == nil {
		err = s.openSyncFiles()
	}
	if err != nil {
		s.closeFiles()
		unlockDir(lock)
		return nil, fmt.Errorf("open spool %q: %w", opts.Dir, err)
	}
	go s.run()
	return s, nil
}

// Append writes the payloads as consecutive records and returns the
// position after the last one, once an fsync covers them. Concurrent
// Appends share one write and fsync. The payloads are copied before Append
// returns, whatever the outcome.
//
// It returns ErrFull if the records would take the unreleased data past
// MaxBytes, ErrTooLarge for a payload over MaxRecordBytes, an error for an
// empty payload, and ErrClosed after Close. If ctx is done before the fsync,
// Append returns ctx's error, but the records may still become durable: the
// caller must treat them as not acknowledged, and a retry may duplicate
// them. With no payloads, Append returns the current EndOffset.
func (s *Spool) Append(ctx context.Context, payloads ...[]byte) (end int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var size int64
	for i, p := range payloads {
		if len(p) == 0 {
			return 0, fmt.Errorf("spool: append: payload %d is empty", i)
		}
		if len(p) > MaxRecordBytes {
			return 0, fmt.Errorf("%w: payload %d is %d bytes, the limit is %d", ErrTooLarge, i, len(p), MaxRecordBytes)
		}
		size += headerSize + int64(len(p))
	}
	// Fail fast before copying the payloads.
	s.mu.Lock()
	err = s.admit(size)
	end = s.durable
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if size == 0 {
		return end, nil
	}

	req := &request{buf: encode(payloads, size), n: len(payloads), done: make(chan error, 1)}
	s.mu.Lock()
	if err := s.admit(size); err != nil {
		s.mu.Unlock()
		return 0, err
	}
	req.start = s.reserved
	s.reserved += size
	req.end = s.reserved
	s.pending = append(s.pending, req)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}

	select {
	case err := <-req.done:
		if err != nil {
			return 0, err
		}
		return req.end, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("spool: append: %w", ctx.Err())
	}
}

// admit reports whether size more bytes may be accepted. s.mu is held.
func (s *Spool) admit(size int64) error {
	switch {
	case s.closed:
		return ErrClosed
	case s.failed != nil:
		return s.failed
	case s.reserved+size-s.released > s.opts.MaxBytes:
		return fmt.Errorf("%w: %d unreleased bytes, %d more would pass the limit of %d",
			ErrFull, s.reserved-s.released, size, s.opts.MaxBytes)
	}
	return nil
}

// encode frames payloads as records into a new buffer of size bytes.
func encode(payloads [][]byte, size int64) []byte {
	buf := make([]byte, size)
	off := 0
	for _, p := range payloads {
		binary.LittleEndian.PutUint32(buf[off:], uint32(len(p)))
		binary.LittleEndian.PutUint32(buf[off+4:], crc32.Checksum(p, castagnoli))
		off += headerSize + copy(buf[off+headerSize:], p)
	}
	return buf
}

// run is the writer goroutine: it takes every pending request, writes
// them together, and hands them to an fsync goroutine, which acknowledges
// them.
func (s *Spool) run() {
	defer close(s.done)
	for {
		select {
		case <-s.wake:
			s.commit()
		case <-s.quit:
			// Close set s.closed before closing quit, so nothing is
			// accepted after this last batch.
			s.commit()
			s.waitSyncs()
			return
		}
	}
}

// commit writes the pending requests and starts their fsync. It waits for
// a free fsync slot first, so that requests keep joining the batch while
// the device is busy.
func (s *Spool) commit() {
	slot := <-s.slots
	s.mu.Lock()
	batch := s.pending
	s.pending = nil
	err := s.failed
	s.mu.Unlock()
	if len(batch) == 0 {
		s.slots <- slot
		return
	}
	if err == nil {
		err = s.write(batch)
	}
	if err != nil {
		s.mu.Lock()
		err = s.fail(err)
		s.mu.Unlock()
		s.slots <- slot
		for _, r := range batch {
			r.done <- err
		}
		return
	}
	fl := &flight{reqs: batch, end: batch[len(batch)-1].end}
	s.mu.Lock()
	s.flights = append(s.flights, fl)
	s.mu.Unlock()
	go s.sync(slot, s.syncFiles[slot], fl)
}

// sync fsyncs the active segment through f for the batch fl, then
// acknowledges, in order, every batch whose fsync is done.
func (s *Spool) sync(slot int, f *os.File, fl *flight) {
	err := f.Sync()
	s.syncs.Add(1)

	s.mu.Lock()
	fl.done = true
	if err != nil {
		s.fail(fmt.Errorf("sync spool segment %q: %w", f.Name(), err))
	}
	var acked []*flight
	for len(s.flights) > 0 && s.flights[0].done {
		fl := s.flights[0]
		s.flights[0] = nil
		s.flights = s.flights[1:]
		if s.failed != nil {
			fl.err = s.failed
		} else {
			s.publish(fl)
		}
		acked = append(acked, fl)
	}
	s.mu.Unlock()
	s.slots <- slot

	for _, fl := range acked {
		for _, r := range fl.reqs {
			r.done <- fl.err
		}
	}
}

// publish makes a durable batch visible to readers. s.mu is held.
func (s *Spool) publish(fl *flight) {
	s.durable = fl.end
	var n int
	for _, r := range fl.reqs {
		s.ring.push(chunk{start: r.start, data: r.buf})
		n += r.n
	}
	s.ring.evict(s.opts.MemoryBytes)
	s.appends.Add(uint64(len(fl.reqs)))
	s.records.Add(uint64(n))
	close(s.notify)
	s.notify = make(chan struct{})
}

// fail makes err the spool's sticky error, unless it already has one, and
// returns the sticky error. s.mu is held.
func (s *Spool) fail(err error) error {
	if s.failed == nil {
		s.failed = fmt.Errorf("spool: write failed, appends refused until reopened: %w", err)
		s.log.Error("spool write failed; refusing appends until reopened", "err", err)
	}
	return s.failed
}

// waitSyncs waits until no fsync runs.
func (s *Spool) waitSyncs() {
	for range maxSyncs {
		<-s.slots
	}
	for i := range maxSyncs {
		s.slots <- i
	}
}

// write writes the batch to the segment files, rolling as needed.
func (s *Spool) write(batch []*request) error {
	for _, r := range batch {
		data := r.buf
		for len(data) > 0 {
			// Take the records that fit in the active segment; an empty
			// segment takes at least one.
			n := 0
			for n < len(data) {
				l := headerSize + int(binary.LittleEndian.Uint32(data[n:]))
				if used := s.segSize + int64(n); used > 0 && used+int64(l) > s.opts.SegmentBytes {
					break
				}
				n += l
			}
			if n > 0 {
				if err := s.put(data[:n]); err != nil {
					return err
				}
				s.segSize += int64(n)
				data = data[n:]
			}
			if len(data) > 0 {
				if err := s.roll(); err != nil {
					return err
				}
			}
		}
	}
	return s.flush()
}

// put queues p for the active segment, coalescing small writes.
func (s *Spool) put(p []byte) error {
	if len(s.wbuf)+len(p) > maxWriteBuf || len(p) >= directWrite {
		if err := s.flush(); err != nil {
			return err
		}
	}
	if len(p) >= directWrite {
		if _, err := s.f.Write(p); err != nil {
			return fmt.Errorf("write spool segment %q: %w", s.f.Name(), err)
		}
		return nil
	}
	s.wbuf = append(s.wbuf, p...)
	return nil
}

// flush writes the coalesced buffer to the active segment.
func (s *Spool) flush() error {
	if len(s.wbuf) == 0 {
		return nil
	}
	_, err := s.f.Write(s.wbuf)
	s.wbuf = s.wbuf[:0]
	if err != nil {
		return fmt.Errorf("write spool segment %q: %w", s.f.Name(), err)
	}
	return nil
}

// roll seals the active segment and starts a new one at the current end.
func (s *Spool) roll() error {
	// The running fsyncs use the descriptors of the active segment; the
	// fsync below covers their batches too. The writer holds one slot.
	var held [maxSyncs - 1]int
	for i := range held {
		held[i] = <-s.slots
	}
	defer func() {
		for _, slot := range held {
			s.slots <- slot
		}
	}()
	if err := s.flush(); err != nil {
		return err
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("sync spool segment %q: %w", s.f.Name(), err)
	}
	s.syncs.Add(1)
	err := s.closeFiles()
	if err != nil {
		return err
	}
	base := s.segBase + s.segSize
	f, err := createSegment(s.opts.Dir, base)
	if err != nil {
		return err
	}
	s.f = f
	if err := s.openSyncFiles(); err != nil {
		return err
	}
	s.mu.Lock()
	s.segs[len(s.segs)-1].size = s.segSize
	s.segs = append(s.segs, segment{base: base})
	s.mu.Unlock()
	s.segBase, s.segSize = base, 0
	return nil
}

// openSyncFiles opens the descriptors that the fsync slots use for the
// active segment.
func (s *Spool) openSyncFiles() error {
	for i := range s.syncFiles {
		f, err := os.Open(s.f.Name())
		if err != nil {
			return fmt.Errorf("open spool segment for fsync: %w", err)
		}
		s.syncFiles[i] = f
	}
	return nil
}

// closeFiles closes the active segment's descriptors. After it, the spool
// cannot write until a new segment is opened.
func (s *Spool) closeFiles() error {
	var errs []error
	for i, f := range append([]*os.File{s.f}, s.syncFiles[:]...) {
		if f != nil {
			if err := f.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close spool segment: %w", err))
			}
		}
		if i == 0 {
			s.f = nil
		} else {
			s.syncFiles[i-1] = nil
		}
	}
	return errors.Join(errs...)
}

// Release declares that the records before upTo are no longer needed: the
// segments that end at or before upTo are deleted and their bytes, and
// those of the records before upTo, no longer count against MaxBytes.
// Releasing a position at or before an earlier one does nothing; a
// position past EndOffset is an error. After Open, call Release with the
// consumer's stored position so the accounting starts from it.
func (s *Spool) Release(upTo int64) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if upTo > s.durable {
		end := s.durable
		s.mu.Unlock()
		return fmt.Errorf("spool: release %d: past the end %d", upTo, end)
	}
	if upTo <= s.released {
		s.mu.Unlock()
		return nil
	}
	s.released = upTo
	var drop []int64
	for len(s.segs) > 1 && s.segs[1].base <= upTo {
		drop = append(drop, s.segs[0].base)
		s.segs = s.segs[1:]
	}
	s.mu.Unlock()

	var errs []error
	for _, base := range drop {
		if err := os.Remove(segmentPath(s.opts.Dir, base)); err != nil {
			errs = append(errs, fmt.Errorf("spool: release: %w", err))
		}
	}
	if len(drop) > 0 {
		if err := syncDir(s.opts.Dir); err != nil {
			errs = append(errs, fmt.Errorf("spool: release: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Stats returns a snapshot of the spool's state and counters.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	st := Stats{
		DiskBytes:      s.durable - s.released,
		Segments:       len(s.segs),
		FirstOffset:    s.segs[0].base,
		ReleasedOffset: s.released,
		EndOffset:      s.durable,
		MemoryBytes:    s.ring.bytes,
	}
	s.mu.Unlock()
	st.Appends = s.appends.Load()
	st.Records = s.records.Load()
	st.Syncs = s.syncs.Load()
	st.CorruptRecords = s.corrupt.Load()
	st.DiskReads = s.reads.Load()
	st.TornBytes = s.torn.Load()
	return st
}

// Close writes and acknowledges the Appends already accepted, stops the
// writer and releases the directory. Later calls to Append, Release and
// Reader methods return ErrClosed. Close is idempotent.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.quit)
	s.mu.Unlock()
	<-s.done
	return errors.Join(s.closeFiles(), unlockDir(s.lock))
}

// ring is the in-memory window of recent records: the buffers of
// committed Appends, contiguous in position, oldest first.
type ring struct {
	chunks []chunk
	head   int // index of the oldest retained chunk
	bytes  int64
}

// chunk is the encoded records of one Append, starting at position start.
// Its bytes are never modified, so readers use them without a lock.
type chunk struct {
	start int64
	data  []byte
}

func (c chunk) end() int64 { return c.start + int64(len(c.data)) }

func (g *ring) push(c chunk) {
	g.chunks = append(g.chunks, c)
	g.bytes += int64(len(c.data))
}

// evict drops the oldest chunks until at most max bytes remain.
func (g *ring) evict(max int64) {
	for g.bytes > max && g.head < len(g.chunks) {
		g.bytes -= int64(len(g.chunks[g.head].data))
		g.chunks[g.head] = chunk{}
		g.head++
	}
	if g.head > 1024 && g.head*2 > len(g.chunks) {
		n := copy(g.chunks, g.chunks[g.head:])
		clear(g.chunks[n:])
		g.chunks = g.chunks[:n]
		g.head = 0
	}
}

// find returns the retained chunk that holds position pos.
func (g *ring) find(pos int64) (chunk, bool) {
	live := g.chunks[g.head:]
	if len(live) == 0 || pos < live[0].start {
		return chunk{}, false
	}
	i := sort.Search(len(live), func(i int) bool { return live[i].start > pos }) - 1
	if c := live[i]; pos < c.end() {
		return c, true
	}
	return chunk{}, false
}

// startsAt reports whether a retained chunk starts at pos, which is then
// known to be a record boundary.
func (g *ring) startsAt(pos int64) bool {
	c, ok := g.find(pos)
	return ok && c.start == pos
}
