package spool

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkAppend measures acknowledged throughput with 8 concurrent
// appenders (4 per CPU), while a consumer releases what was written, as
// the receiver and the rollup consumer do.
func BenchmarkAppend(b *testing.B) {
	for _, bc := range []struct {
		name    string
		size    int // bytes per payload
		records int // payloads per Append
	}{
		{"64KiB", 64 << 10, 1},
		{"2KiB", 2 << 10, 1},
		{"100x2KiB", 2 << 10, 100},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := Open(Options{Dir: b.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			stop := make(chan struct{})
			released := make(chan struct{})
			go func() {
				defer close(released)
				t := time.NewTicker(20 * time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-stop:
						return
					case <-t.C:
						s.Release(s.Stats().EndOffset)
					}
				}
			}()
			defer func() { close(stop); <-released }()

			payloads := make([][]byte, bc.records)
			for i := range payloads {
				payloads[i] = make([]byte, bc.size)
				for j := range payloads[i] {
					payloads[i][j] = byte(rand.Uint32())
				}
			}
			ctx := context.Background()
			b.SetBytes(int64(bc.size * bc.records))
			b.SetParallelism(4)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.Append(ctx, payloads...); err != nil {
						b.Error(err)
						return
					}
				}
			})
			elapsed := time.Since(start)
			b.StopTimer()
			st := s.Stats()
			b.ReportMetric(float64(st.Records)/elapsed.Seconds(), "records/s")
			b.ReportMetric(float64(st.Appends)/float64(max(st.Syncs, 1)), "appends/fsync")
		})
	}
}

// BenchmarkRead measures reading 2 KiB records from the memory window and,
// for a reader that fell behind, from the segment files (page cache).
func BenchmarkRead(b *testing.B) {
	const size, n = 2 << 10, 16 << 10 // 32 MiB of records
	for _, bc := range []struct {
		name   string
		memory int64
	}{{"memory", 0}, {"disk", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := Open(Options{Dir: b.TempDir(), MemoryBytes: bc.memory, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			batch := make([][]byte, 256)
			for i := range batch {
				batch[i] = make([]byte, size)
			}
			for range n / len(batch) {
				if _, err := s.Append(context.Background(), batch...); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(size)
			b.ResetTimer()
			r := s.Reader(0)
			for range b.N {
				rec, ok, err := r.TryNext()
				if err != nil {
					b.Fatal(err)
				}
				if !ok {
					r.Close()
					r = s.Reader(0)
					if rec, ok, err = r.TryNext(); !ok || err != nil {
						b.Fatal("no record", err)
					}
				}
				if len(rec.Data) != size {
					b.Fatal(fmt.Sprintf("record of %d bytes", len(rec.Data)))
				}
			}
			b.StopTimer()
			r.Close()
			if bc.memory == 1 && s.Stats().DiskReads == 0 {
				b.Fatal("read from memory")
			}
		})
	}
}
