package spool

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"testing"
)

// frame encodes payloads as records.
func frame(payloads ...string) []byte {
	var b []byte
	for _, p := range payloads {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = binary.LittleEndian.AppendUint32(b, crc32.Checksum([]byte(p), castagnoli))
		b = append(b, p...)
	}
	return b
}

// FuzzRecover writes arbitrary bytes as a segment, either the last one or
// an older one followed by a valid segment, and checks that Open does not
// fail and that the Reader returns only records that are framed and
// checksummed in those bytes, in order.
func FuzzRecover(f *testing.F) {
	good := frame("hello", "world", "a longer record of some bytes")
	f.Add([]byte{}, false)
	f.Add(good, false)
	f.Add(good, true)
	f.Add(good[:len(good)-3], false)
	f.Add(good[:len(good)-3], true)
	f.Add(append(bytes.Clone(good), make([]byte, 100)...), false)
	f.Add(append(bytes.Clone(good), make([]byte, 100)...), true)
	f.Add(make([]byte, 64), false)
	flipped := bytes.Clone(good)
	flipped[20] ^= 1
	f.Add(flipped, true)
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4, 5}, false)
	f.Add(append(frame("x"), 1, 0, 0, 0), true)

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.Fuzz(func(t *testing.T, data []byte, older bool) {
		dir := t.TempDir()
		if err := os.WriteFile(segmentPath(dir, 0), data, 0o600); err != nil {
			t.Fatal(err)
		}
		older = older && len(data) > 0
		tail := frame("tail")
		if older {
			if err := os.WriteFile(segmentPath(dir, int64(len(data))), tail, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		s, err := Open(Options{Dir: dir, Logger: quiet, MemoryBytes: 1})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer s.Close()

		recs := readAll(t, s, 0)
		var pos int64
		for i, rec := range recs {
			if older && i == len(recs)-1 {
				if rec.Offset != int64(len(data)) || string(rec.Data) != "tail" {
					t.Fatalf("last record is [%d,%d) %q, want the tail segment's", rec.Offset, rec.End, rec.Data)
				}
				break
			}
			if rec.Offset != pos || rec.End > int64(len(data)) {
				t.Fatalf("record [%d,%d) does not follow %d within %d bytes", rec.Offset, rec.End, pos, len(data))
			}
			hdr := data[rec.Offset:]
			if n := binary.LittleEndian.Uint32(hdr); int64(n) != rec.End-rec.Offset-headerSize || len(rec.Data) != int(n) {
				t.Fatalf("record [%d,%d) has %d bytes, header says %d", rec.Offset, rec.End, len(rec.Data), n)
			}
			if !bytes.Equal(rec.Data, data[rec.Offset+headerSize:rec.End]) {
				t.Fatalf("record [%d,%d) data differs from the file", rec.Offset, rec.End)
			}
			if crc32.Checksum(rec.Data, castagnoli) != binary.LittleEndian.Uint32(hdr[4:]) {
				t.Fatalf("record [%d,%d) has a bad CRC", rec.Offset, rec.End)
			}
			pos = rec.End
		}
		if older && (len(recs) == 0 || string(recs[len(recs)-1].Data) != "tail") {
			t.Fatal("the valid segment after the damaged one was not read")
		}

		end, err := s.Append(context.Background(), []byte("new"))
		if err != nil {
			t.Fatalf("Append after recovery: %v", err)
		}
		got := readAll(t, s, end-headerSize-3)
		if len(got) != 1 || string(got[0].Data) != "new" {
			t.Fatalf("read back %v after Append", got)
		}
	})
}
