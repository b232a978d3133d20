package spool

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const segmentExt = ".seg"

// segmentPath returns the path of the segment whose first record is at base.
func segmentPath(dir string, base int64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", base, segmentExt))
}

// recover scans the segments in the directory, truncates a torn tail of
// the last one, and opens the last one (or a new one) for appending.
func (s *Spool) recover() error {
	dir := s.opts.Dir
	bases, err := s.listSegments()
	if err != nil {
		return err
	}
	segs := make([]segment, 0, len(bases)+1)
	for i, base := range bases {
		path := segmentPath(dir, base)
		last := i == len(bases)-1
		limit := int64(-1)
		if !last {
			limit = bases[i+1] - base
		}
		sc, err := scanSegment(path, limit)
		if err != nil {
			return err
		}
		if sc.reason != "" {
			if last {
				dropped := sc.size - sc.valid
				s.log.Warn("spool: dropping the torn tail of the last segment",
					"file", path, "position", base+sc.valid, "bytes_dropped", dropped, "reason", sc.reason)
				if err := truncateFile(path, sc.valid); err != nil {
					return err
				}
				s.torn.Add(dropped)
			} else {
				s.log.Error("spool: corrupt record in segment; the records after it in this segment are lost",
					"file", path, "position", base+sc.valid, "bytes_skipped", max(limit, sc.size)-sc.valid,
					"records_before", sc.records, "reason", sc.reason)
				s.corrupt.Add(1)
			}
		}
		segs = append(segs, segment{base: base, size: sc.valid})
	}

	if n := len(segs); n > 0 {
		if end := segs[n-1].base + segs[n-1].size; end < s.opts.StartOffset {
			s.log.Warn("spool: the segments end before StartOffset, so the consumer has covered them; deleting them",
				"end", end, "start_offset", s.opts.StartOffset, "segments", n)
			for _, seg := range segs {
				if err := os.Remove(segmentPath(dir, seg.base)); err != nil {
					return err
				}
			}
			segs = segs[:0]
		}
	}
	if len(segs) == 0 {
		f, err := createSegment(dir, s.opts.StartOffset)
		if err != nil {
			return err
		}
		s.f = f
		segs = append(segs, segment{base: s.opts.StartOffset})
	} else {
		last := segs[len(segs)-1]
		f, err := os.OpenFile(segmentPath(dir, last.base), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return err
		}
		s.f = f
	}

	last := segs[len(segs)-1]
	s.segs = segs
	s.segBase, s.segSize = last.base, last.size
	s.durable = last.base + last.size
	s.reserved = s.durable
	s.released = segs[0].base
	return nil
}

// listSegments returns the bases of the segment files in the directory in
// increasing order.
func (s *Spool) listSegments() ([]int64, error) {
	entries, err := os.ReadDir(s.opts.Dir)
	if err != nil {
		return nil, err
	}
	var bases []int64
	for _, e := range entries {
		name := e.Name()
		digits, ok := strings.CutSuffix(name, segmentExt)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		base, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || len(digits) != 20 || base < 0 {
			s.log.Warn("spool: ignoring a file that is not named like a segment", "file", filepath.Join(s.opts.Dir, name))
			continue
		}
		bases = append(bases, base)
	}
	slices.Sort(bases)
	return bases, nil
}

// scan is what scanSegment found.
type scan struct {
	valid   int64  // length of the prefix of valid records
	size    int64  // file size
	records int    // records in the valid prefix
	reason  string // why the valid prefix is not the whole segment; "" if it is
}

// scanSegment verifies the records of a segment file. limit is the length
// the segment must have (the distance to the next segment's base), or -1
// for the last segment, which may have any length.
func scanSegment(path string, limit int64) (scan, error) {
	f, err := os.Open(path)
	if err != nil {
		return scan{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return scan{}, err
	}
	sc := scan{size: fi.Size()}
	end := sc.size
	if limit >= 0 && limit < end {
		end = limit
	}
	br := bufio.NewReaderSize(f, 1<<20)
	var hdr [headerSize]byte
	for sc.valid < end {
		if end-sc.valid < headerSize {
			sc.reason = fmt.Sprintf("partial header of %d bytes", end-sc.valid)
			break
		}
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return sc, fmt.Errorf("read spool segment %q: %w", path, err)
		}
		n := int64(binary.LittleEndian.Uint32(hdr[:]))
		if reason := checkLength(n, end-sc.valid); reason != "" {
			sc.reason = reason
			break
		}
		var crc uint32
		for left := int(n); left > 0; {
			b, err := br.Peek(min(left, br.Size()))
			if err != nil {
				return sc, fmt.Errorf("read spool segment %q: %w", path, err)
			}
			crc = crc32.Update(crc, castagnoli, b)
			br.Discard(len(b))
			left -= len(b)
		}
		if crc != binary.LittleEndian.Uint32(hdr[4:]) {
			sc.reason = "CRC mismatch"
			break
		}
		sc.valid += headerSize + n
		sc.records++
	}
	if sc.reason == "" && limit >= 0 && sc.size != limit {
		if sc.size < limit {
			sc.reason = fmt.Sprintf("file ends %d bytes before the next segment's base", limit-sc.size)
		} else {
			sc.reason = fmt.Sprintf("file runs %d bytes past the next segment's base", sc.size-limit)
		}
	}
	return sc, nil
}

// checkLength returns why a record of payload length n, with room bytes
// left for its header and payload, cannot be valid, or "".
func checkLength(n, room int64) string {
	switch {
	case n == 0:
		return "zero length (unwritten or zeroed space)"
	case n > MaxRecordBytes:
		return fmt.Sprintf("length %d over the limit of %d", n, MaxRecordBytes)
	case headerSize+n > room:
		return fmt.Sprintf("length %d runs past the end of the data (%d bytes left)", n, room-headerSize)
	}
	return ""
}

// createSegment creates the segment file for base and makes its directory
// entry durable.
func createSegment(dir string, base int64) (*os.File, error) {
	f, err := os.OpenFile(segmentPath(dir, base), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create spool segment: %w", err)
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// truncateFile cuts path to size and makes that durable.
func truncateFile(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("truncate spool segment: %w", err)
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("truncate spool segment %q: %w", path, err)
	}
	return nil
}

// syncDir makes the creation and removal of files in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync spool directory: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync spool directory %q: %w", dir, err)
	}
	return nil
}
