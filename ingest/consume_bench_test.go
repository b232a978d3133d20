package ingest_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/enrich"
	"github.com/apilens/apilens/ingest"
	"github.com/apilens/apilens/simulate"
	"github.com/apilens/apilens/spool"
	"github.com/apilens/apilens/store/sqlite"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// BenchmarkConsume measures the consumer alone, without receivers or a
// load generator competing for the cores: a spool holding 1,000,000
// events (APILENS_BENCH_EVENTS) of simulated traffic (100 APIs × 1,000
// applications, 1,000 events per record, the last hour), replayed by a
// pipeline with the server's default flush settings, enrichment and an
// SQLite store. It reports events/s counted (decoded, enriched, in the
// rollups), events/s flushed (every tier and the raw events stored) and
// the CPU time per event.
func BenchmarkConsume(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("APILENS_BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	const perRecord = 1000
	log := slog.New(slog.DiscardHandler)
	x, err := enrich.New(enrich.Options{Logger: log})
	if err != nil {
		b.Logf("without enrichment: %v", err)
	}
	g := simulate.NewGenerator(simulate.Options{Seed: 7, APIs: 100, Applications: 1000})
	var records [][]byte
	start := time.Now().Add(-59 * time.Minute)
	// APILENS_BENCH_DISTINCT=N repeats the first N events' records, the
	// way the end-to-end benchmarks cycle their pre-encoded batches.
	distinct := n
	if v, err := strconv.Atoi(os.Getenv("APILENS_BENCH_DISTINCT")); err == nil && v > 0 {
		distinct = min(v, n)
	}
	var e apilens.Event
	for i := 0; i < n; i += perRecord {
		if i >= distinct {
			records = append(records, records[(i/perRecord)%(distinct/perRecord)])
			continue
		}
		var events []byte
		for j := range perRecord {
			g.Next(&e, start.Add(time.Duration(i+j)*time.Millisecond*3))
			e.Normalize()
			events = apilens.AppendEvent(events, &e)
		}
		records = append(records, apilens.AppendEncodedBatch(nil, "", perRecord, events))
	}
	for b.Loop() {
		dir := b.TempDir()
		sp, err := spool.Open(spool.Options{Dir: filepath.Join(dir, "spool"), MaxBytes: 4 << 30, MemoryBytes: 8 << 20, Logger: log})
		if err != nil {
			b.Fatal(err)
		}
		end, err := sp.Append(context.Background(), records...)
		if err != nil {
			b.Fatal(err)
		}
		db, err := sqlite.Open(context.Background(), filepath.Join(dir, "apilens.db"), sqlite.Options{Logger: log})
		if err != nil {
			b.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		m := ingest.NewMetrics(reg)
		opts := ingest.Options{
			Log: ingest.SpoolLog(sp), Store: db, Metrics: m, Logger: log,
			FlushInterval: 5 * time.Second, CoarseInterval: 30 * time.Second, FlushMaxRows: 50_000, MaxHeldBytes: 1 << 28,
		}
		if x != nil {
			opts.Enrich = x.Enrich
		}
		p := ingest.New(opts)
		cpu0, t0 := cpuSeconds(), time.Now()
		if err := p.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		for counter(b, reg, "apilens_rollup_events_total") < float64(len(records)*perRecord) {
			time.Sleep(5 * time.Millisecond)
		}
		counted := time.Since(t0)
		for p.Flushed() < end {
			time.Sleep(5 * time.Millisecond)
		}
		flushed, cpu := time.Since(t0), cpuSeconds()-cpu0
		total := float64(len(records) * perRecord)
		b.ReportMetric(total/counted.Seconds(), "counted_events/s")
		b.ReportMetric(total/flushed.Seconds(), "flushed_events/s")
		b.ReportMetric(cpu*1e6/total, "CPU_µs/event")
		b.ReportMetric(counter(b, reg, "apilens_rollup_flushed_rows_total")/total, "rows/event")
		p.Close()
		db.Close()
		sp.Close()
	}
}

// counter returns the value of the counter named name in reg.
func counter(b *testing.B, reg *prometheus.Registry, name string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	b.Fatalf("no metric %s", name)
	return 0
}
