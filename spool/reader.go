package spool

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"sort"
)

// readBuf is how much a reader reads from a segment file at a time.
const readBuf = 1 << 20

// Record is one record read from the spool.
type Record struct {
	// Offset is the position of the record.
	Offset int64
	// End is the position after the record, where the next one starts:
	// the position a consumer stores once it has covered this record.
	End int64
	// Data is the payload. The spool never reuses or modifies it, so it
	// stays valid after later calls, but it may share memory with other
	// records and other readers: treat it as read-only.
	Data []byte
}

// Reader reads the durable records of a Spool in position order. It serves
// records from the in-memory window when it can and from the segment files
// when it has fallen behind. A Reader is meant for one goroutine; several
// Readers may read one Spool concurrently.
type Reader struct {
	s        *Spool
	pos      int64 // position of the next record
	skipTo   int64 // with skipping, records before skipTo are dropped
	skipping bool

	c chunk // the in-memory chunk the reader is in, if any

	f        *os.File // the segment file being read, with base fBase
	fBase    int64
	buf      []byte // bytes of f from position bufPos; never reused
	bufPos   int64
	bufLimit int64 // end of the segment's readable data when buf was filled
	bufNext  int64 // base of the next segment then, or -1 for the last one
	need     int   // bytes needed at pos when buf ran out
}

// errGone reports that a segment was deleted between locating and opening it.
var errGone = errors.New("segment released")

// Reader returns a Reader positioned at from, which should be a record
// boundary (a position Append returned or a Record's Offset or End). If
// from is before the first retained record, the Reader starts at that
// record and a warning logs the gap; if it is past EndOffset, the Reader
// starts at EndOffset. If from is not a known boundary, the Reader scans
// from the start of its segment and begins at the first record at or after
// from, warning if from was inside a record.
func (s *Spool) Reader(from int64) *Reader {
	r := &Reader{s: s, pos: from}
	s.mu.Lock()
	first, end := s.segs[0].base, s.durable
	start := from
	if from > first && from < end && !s.ring.startsAt(from) {
		if c, ok := s.ring.find(from); ok {
			start = c.start
		} else {
			start = s.segs[s.segIndex(from)].base
		}
	}
	s.mu.Unlock()
	switch {
	case from < first:
		s.log.Warn("spool: reader starts before the first retained record; the records in between were released or lost",
			"from", from, "first", first, "bytes_skipped", first-from)
		r.pos = first
	case from > end:
		s.log.Warn("spool: reader starts past the end; starting at the end", "from", from, "end", end)
		r.pos = end
	case start != from:
		r.pos, r.skipTo, r.skipping = start, from, true
	}
	return r
}

// segIndex returns the index of the segment holding pos, or -1 if pos is
// before the first one. s.mu is held.
func (s *Spool) segIndex(pos int64) int {
	return sort.Search(len(s.segs), func(i int) bool { return s.segs[i].base > pos }) - 1
}

// Offset returns the position of the next record the Reader returns.
func (r *Reader) Offset() int64 {
	if r.skipping {
		return r.skipTo
	}
	return r.pos
}

// Next returns the next record, blocking until it is durable. It returns
// ctx's error if ctx is done first, and ErrClosed once the Spool is closed.
func (r *Reader) Next(ctx context.Context) (Record, error) {
	for {
		rec, ok, err := r.TryNext()
		if err != nil || ok {
			return rec, err
		}
		// Take the channel before looking again, so that a commit in
		// between is not missed.
		r.s.mu.Lock()
		wait := r.s.notify
		r.s.mu.Unlock()
		rec, ok, err = r.TryNext()
		if err != nil || ok {
			return rec, err
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return Record{}, ctx.Err()
		case <-r.s.quit:
			r.Close()
			return Record{}, ErrClosed
		}
	}
}

// TryNext is like Next but does not wait: ok is false if no durable record
// is available yet.
func (r *Reader) TryNext() (rec Record, ok bool, err error) {
	for {
		rec, ok, err = r.next()
		if err != nil || !ok || !r.skipping {
			return rec, ok, err
		}
		if rec.Offset < r.skipTo {
			continue
		}
		r.skipping = false
		if rec.Offset != r.skipTo {
			r.s.log.Warn("spool: reader start is not a record boundary; starting at the next record",
				"from", r.skipTo, "to", rec.Offset)
		}
		return rec, true, nil
	}
}

// Close releases the segment file the Reader holds open. The Reader must
// not be used afterwards.
func (r *Reader) Close() error {
	r.buf, r.c = nil, chunk{}
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

// next returns the record at r.pos, if it is durable.
func (r *Reader) next() (Record, bool, error) {
	s := r.s
	for {
		if rec, ok := r.fromChunk(); ok {
			return rec, true, nil
		}
		if rec, ok, skipped := r.fromBuf(); ok {
			return rec, true, nil
		} else if skipped {
			continue
		}

		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			r.Close()
			return Record{}, false, ErrClosed
		}
		durable := s.durable
		if r.pos >= durable {
			s.mu.Unlock()
			return Record{}, false, nil
		}
		if c, ok := s.ring.find(r.pos); ok {
			s.mu.Unlock()
			r.Close()
			r.c = c
			continue
		}
		r.c = chunk{}
		i := s.segIndex(r.pos)
		if i < 0 {
			first := s.segs[0].base
			s.mu.Unlock()
			s.log.Warn("spool: reader fell behind released records; skipping them",
				"from", r.pos, "to", first, "bytes_skipped", first-r.pos)
			r.pos, r.buf = first, nil
			continue
		}
		seg := s.segs[i]
		limit, next := durable, int64(-1)
		if i+1 < len(s.segs) {
			limit, next = min(seg.base+seg.size, durable), s.segs[i+1].base
		}
		s.mu.Unlock()

		if r.pos >= limit {
			// Only an older segment cut short by corruption (logged at
			// Open) ends before the next one starts.
			s.log.Warn("spool: reader skipping records lost to corruption",
				"file", segmentPath(s.opts.Dir, seg.base), "from", r.pos, "to", next, "bytes_skipped", next-r.pos)
			r.pos, r.buf = next, nil
			continue
		}
		if err := r.fill(seg.base, limit, next); err != nil && !errors.Is(err, errGone) {
			return Record{}, false, err
		}
	}
}

// fromChunk returns the record at r.pos from the reader's memory chunk.
func (r *Reader) fromChunk() (Record, bool) {
	off := r.pos - r.c.start
	if off < 0 || off >= int64(len(r.c.data)) {
		return Record{}, false
	}
	b := r.c.data[off:]
	n := int64(binary.LittleEndian.Uint32(b))
	rec := Record{Offset: r.pos, End: r.pos + headerSize + n, Data: b[headerSize : headerSize+n : headerSize+n]}
	r.pos = rec.End
	return rec, true
}

// fromBuf returns the record at r.pos from the disk buffer, verifying it.
// If the buffer does not hold all of it, ok is false and r.need says how
// many bytes are needed; if the record is corrupt, the rest of its segment
// is skipped and skipped is true.
func (r *Reader) fromBuf() (rec Record, ok, skipped bool) {
	r.need = headerSize
	off := r.pos - r.bufPos
	if r.buf == nil || off < 0 || off >= int64(len(r.buf)) {
		return Record{}, false, false
	}
	b := r.buf[off:]
	if r.bufLimit-r.pos < headerSize {
		r.corrupt(fmt.Sprintf("partial header of %d bytes", r.bufLimit-r.pos))
		return Record{}, false, true
	}
	if len(b) < headerSize {
		return Record{}, false, false
	}
	n := int64(binary.LittleEndian.Uint32(b))
	if reason := checkLength(n, r.bufLimit-r.pos); reason != "" {
		r.corrupt(reason)
		return Record{}, false, true
	}
	if int64(len(b)) < headerSize+n {
		r.need = int(headerSize + n)
		return Record{}, false, false
	}
	data := b[headerSize : headerSize+n : headerSize+n]
	if crc32.Checksum(data, castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		r.corrupt("CRC mismatch")
		return Record{}, false, true
	}
	rec = Record{Offset: r.pos, End: r.pos + headerSize + n, Data: data}
	r.pos = rec.End
	return rec, true, false
}

// fill reads from the segment with base at r.pos, at least r.need bytes and
// at most up to limit. next is the base of the following segment, or -1.
func (r *Reader) fill(base, limit, next int64) error {
	if r.f == nil || r.fBase != base {
		r.Close()
		f, err := os.Open(segmentPath(r.s.opts.Dir, base))
		if errors.Is(err, fs.ErrNotExist) {
			return errGone
		}
		if err != nil {
			return fmt.Errorf("spool: read: %w", err)
		}
		r.f, r.fBase = f, base
	}
	buf := make([]byte, min(max(int64(r.need), readBuf), limit-r.pos))
	r.buf, r.bufPos, r.bufLimit, r.bufNext = buf, r.pos, limit, next
	r.s.reads.Add(1)
	if n, err := r.f.ReadAt(buf, r.pos-base); n < len(buf) {
		r.corrupt(fmt.Sprintf("file shorter than its data: %v", err))
	}
	return nil
}

// corrupt logs and counts a corrupt record at r.pos and skips the rest of
// its segment.
func (r *Reader) corrupt(reason string) {
	to := r.bufNext
	if to < 0 {
		to = r.bufLimit
	}
	r.s.corrupt.Add(1)
	r.s.log.Error("spool: corrupt record while reading; skipping the rest of the segment",
		"file", segmentPath(r.s.opts.Dir, r.fBase), "position", r.pos, "bytes_skipped", to-r.pos, "reason", reason)
	r.pos, r.buf = to, nil
}
