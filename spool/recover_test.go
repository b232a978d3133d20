package spool

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// lastSegment returns the path and base of the directory's last segment.
func lastSegment(t *testing.T, dir string) (string, int64) {
	t.Helper()
	files := segmentFiles(t, dir)
	path := files[len(files)-1]
	base, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(path), segmentExt), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return path, base
}

func truncate(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func writeAt(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeAt(t, path, off, []byte{b[off] ^ 0x20})
}

func TestRecoverTornTail(t *testing.T) {
	const n = 300
	for _, tc := range []struct {
		name string
		// damage damages the last record, at offset off of the file at path.
		damage func(t *testing.T, path string, off int64, rec Record)
		// intact says whether the damaged record survives.
		intact bool
	}{
		{"truncated mid-header", func(t *testing.T, path string, off int64, _ Record) {
			truncate(t, path, off+3)
		}, false},
		{"truncated after header", func(t *testing.T, path string, off int64, _ Record) {
			truncate(t, path, off+headerSize)
		}, false},
		{"truncated mid-payload", func(t *testing.T, path string, off int64, rec Record) {
			truncate(t, path, off+headerSize+int64(len(rec.Data))/2)
		}, false},
		{"flipped payload byte", func(t *testing.T, path string, off int64, _ Record) {
			flipByte(t, path, off+headerSize+3)
		}, false},
		{"flipped CRC byte", func(t *testing.T, path string, off int64, _ Record) {
			flipByte(t, path, off+5)
		}, false},
		{"length past EOF", func(t *testing.T, path string, off int64, rec Record) {
			writeAt(t, path, off, binary.LittleEndian.AppendUint32(nil, uint32(len(rec.Data)+100)))
		}, false},
		{"length over the limit", func(t *testing.T, path string, off int64, _ Record) {
			writeAt(t, path, off, []byte{0xff, 0xff, 0xff, 0xff})
		}, false},
		{"zeroed record", func(t *testing.T, path string, off int64, rec Record) {
			writeAt(t, path, off, make([]byte, rec.End-rec.Offset))
		}, false},
		{"zeros appended", func(t *testing.T, path string, off int64, rec Record) {
			writeAt(t, path, off+rec.End-rec.Offset, make([]byte, 1<<16))
		}, true},
		{"garbage appended", func(t *testing.T, path string, off int64, rec Record) {
			writeAt(t, path, off+rec.End-rec.Offset, []byte("garbage that is no record"))
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{Dir: dir, SegmentBytes: 4096}
			s, _ := openSpool(t, opts)
			want := appendIDs(t, s, 0, n)
			s.Close()

			path, base := lastSegment(t, dir)
			last := want[n-1]
			if last.Offset < base {
				t.Fatal("the last record is not in the last segment")
			}
			tc.damage(t, path, last.Offset-base, last)
			if !tc.intact {
				want = want[:n-1]
			}

			s, logs := openSpool(t, opts)
			st := s.Stats()
			if st.TornBytes == 0 || st.CorruptRecords != 0 || st.EndOffset != want[len(want)-1].End {
				t.Errorf("Stats = %+v, want torn bytes and EndOffset %d", st, want[len(want)-1].End)
			}
			if log := logs.String(); !strings.Contains(log, "torn tail") || !strings.Contains(log, path) ||
				!strings.Contains(log, "position="+strconv.FormatInt(want[len(want)-1].End, 10)) ||
				!strings.Contains(log, "bytes_dropped=") {
				t.Errorf("the warning does not name the file, position and bytes dropped; log:\n%s", log)
			}
			if fi, err := os.Stat(path); err != nil || fi.Size() != want[len(want)-1].End-base {
				t.Errorf("the last segment was not truncated to the last good record")
			}
			sameRecords(t, readAll(t, s, 0), want)

			more := appendIDs(t, s, n, 20)
			if more[0].Offset != want[len(want)-1].End {
				t.Errorf("positions continue at %d, want %d", more[0].Offset, want[len(want)-1].End)
			}
			want = append(want, more...)
			sameRecords(t, readAll(t, s, 0), want)
			s.Close()

			s, logs = openSpool(t, opts)
			if st := s.Stats(); st.TornBytes != 0 {
				t.Errorf("second reopen dropped %d bytes; log:\n%s", st.TornBytes, logs)
			}
			sameRecords(t, readAll(t, s, 0), want)
		})
	}
}

func TestRecoverEmptyLastSegment(t *testing.T) {
	// A crash right after a roll leaves an empty last segment.
	dir := t.TempDir()
	opts := Options{Dir: dir, SegmentBytes: 4096}
	s, _ := openSpool(t, opts)
	want := appendIDs(t, s, 0, 100)
	s.Close()
	end := want[len(want)-1].End
	f, err := os.Create(segmentPath(dir, end))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()

	s, _ = openSpool(t, opts)
	if st := s.Stats(); st.EndOffset != end || st.TornBytes != 0 {
		t.Fatalf("Stats = %+v", st)
	}
	want = append(want, appendIDs(t, s, 100, 10)...)
	sameRecords(t, readAll(t, s, 0), want)
}

func TestRecoverCorruptOlderSegment(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, SegmentBytes: 4096, MemoryBytes: 1}
	s, _ := openSpool(t, opts)
	want := appendIDs(t, s, 0, 300)
	s.Close()

	// Damage the third record of the second segment.
	files := segmentFiles(t, dir)
	path := files[1]
	base, _ := strconv.ParseInt(strings.TrimSuffix(filepath.Base(path), segmentExt), 10, 64)
	nextBase, _ := strconv.ParseInt(strings.TrimSuffix(filepath.Base(files[2]), segmentExt), 10, 64)
	var i int
	for want[i].Offset != base {
		i++
	}
	bad := want[i+2]
	flipByte(t, path, bad.Offset-base+headerSize)

	s, logs := openSpool(t, opts)
	st := s.Stats()
	if st.CorruptRecords != 1 || st.TornBytes != 0 || st.EndOffset != want[len(want)-1].End {
		t.Errorf("Stats = %+v, want 1 corrupt record and nothing torn", st)
	}
	log := logs.String()
	if !strings.Contains(log, "level=ERROR") || !strings.Contains(log, path) ||
		!strings.Contains(log, "position="+strconv.FormatInt(bad.Offset, 10)) ||
		!strings.Contains(log, "lost") {
		t.Errorf("the error does not name the file and position and say records are lost; log:\n%s", log)
	}

	// Every record but those after the damage in its segment is read.
	var kept []Record
	for _, r := range want {
		if r.Offset < bad.Offset || r.Offset >= nextBase {
			kept = append(kept, r)
		}
	}
	sameRecords(t, readAll(t, s, 0), kept)
	if !strings.Contains(logs.String(), "lost to corruption") {
		t.Errorf("the reader did not warn about the skipped records; log:\n%s", logs)
	}
	// A reader starting inside the lost range starts at the next segment.
	got := readAll(t, s, bad.End)
	if len(got) == 0 || got[0].Offset != nextBase {
		t.Errorf("reader from %d starts at %v, want %d", bad.End, got, nextBase)
	}
	want = append(kept, appendIDs(t, s, 300, 10)...)
	sameRecords(t, readAll(t, s, 0), want)
}

func TestReadCorruptionWhileOpen(t *testing.T) {
	// Damage that appears on disk after Open is caught by the reader's
	// CRC check.
	dir := t.TempDir()
	s, logs := openSpool(t, Options{Dir: dir, SegmentBytes: 4096, MemoryBytes: 1})
	want := appendIDs(t, s, 0, 300)
	files := segmentFiles(t, dir)
	nextBase, _ := strconv.ParseInt(strings.TrimSuffix(filepath.Base(files[1]), segmentExt), 10, 64)
	flipByte(t, files[0], want[1].Offset+headerSize)

	var kept []Record
	for _, r := range want {
		if r.Offset < want[1].Offset || r.Offset >= nextBase {
			kept = append(kept, r)
		}
	}
	sameRecords(t, readAll(t, s, 0), kept)
	if st := s.Stats(); st.CorruptRecords != 1 {
		t.Errorf("CorruptRecords = %d, want 1", st.CorruptRecords)
	}
	if !strings.Contains(logs.String(), "CRC mismatch") {
		t.Errorf("no CRC error logged; log:\n%s", logs)
	}
}
