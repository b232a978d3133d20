package sqlite

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/sketch"
)

// flushRows returns n rows spread over the families like a consumer's
// flush, with latency sketches of a few dozen values where the family has
// them, all in the minute bucket of at.
func flushRows(n int, at time.Time) []apilens.RollupRow {
	r := rand.New(rand.NewPCG(1, 2))
	sk := func() []byte {
		s := sketch.New()
		for range 5 + r.IntN(50) {
			s.Add(r.ExpFloat64() * 120)
		}
		return s.Encode()
	}
	rows := make([]apilens.RollupRow, n)
	for i := range rows {
		spec := apilens.Families[i%len(apilens.Families)]
		row := &rows[i]
		row.Family, row.Gran, row.Bucket = spec.Family, apilens.Minute, apilens.Minute.Truncate(at).Unix()
		for d := range spec.Dims {
			row.Dims[d] = fmt.Sprintf("%s-%d-%d", spec.Dims[d], d, i)
		}
		row.Requests, row.Successful, row.Status2xx, row.Responses = 60, 58, 58, 58
		row.ResponseLatencySum, row.BackendLatencySum = 6960, 5800
		if spec.Latency {
			row.ResponseSketch, row.BackendSketch = sk(), sk()
		}
	}
	return rows
}

// BenchmarkApplyFlush applies flushes of 50,000 rows: "insert" into new
// buckets each time, "update" onto the same keys, so that every row with a
// sketch merges two.
func BenchmarkApplyFlush(b *testing.B) {
	const n = 50_000
	for _, mode := range []string{"insert", "update"} {
		b.Run(mode, func(b *testing.B) {
			db := openTemp(b)
			rows := flushRows(n, base)
			if mode == "update" {
				if err := db.ApplyFlush(b.Context(), &apilens.Flush{Stream: "events", Rows: rows}); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			i := 0
			for b.Loop() {
				i++
				if mode == "insert" {
					b.StopTimer()
					for j := range rows {
						rows[j].Bucket = base.Add(time.Duration(i) * time.Minute).Unix()
					}
					b.StartTimer()
				}
				if err := db.ApplyFlush(b.Context(), &apilens.Flush{Stream: "events", Offset: int64(i), Rows: rows}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
