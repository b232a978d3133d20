package ingest

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the pipeline's Prometheus metrics.
type Metrics struct {
	accepted     prometheus.Counter
	rejected     prometheus.Counter
	batches      prometheus.Counter
	duplicates   prometheus.Counter
	consumed     prometheus.Counter
	corrupt      prometheus.Counter
	folded       *prometheus.CounterVec
	flushSeconds *prometheus.HistogramVec
	flushRows    prometheus.Counter
	flushEvents  prometheus.Histogram
	flushErrors  prometheus.Counter
}

// NewMetrics creates the metrics and registers them with reg (nil: none).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		accepted:   prometheus.NewCounter(prometheus.CounterOpts{Name: "apilens_ingest_events_accepted_total", Help: "Events made durable and acknowledged."}),
		rejected:   prometheus.NewCounter(prometheus.CounterOpts{Name: "apilens_ingest_events_rejected_total", Help: "Events rejected as invalid."}),
		batches:    prometheus.NewCounter(prometheus.CounterOpts{Name: "apilens_ingest_batches_total", Help: "Batches made durable."}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{Name: "apilens_ingest_duplicate_batches_total", Help: "Retried batches acknowledged again without counting (Idempotency-Key seen)."}),
		consumed:   prometheus.NewCounter(prometheus.CounterOpts{Name: "apilens_rollup_events_total", Help: "Events aggregated by the rollup consumer."}),
		corrupt:    prometheus.NewCounter(prometheus.CounterOpts{Name: "apilens_rollup_corrupt_batches_total", Help: "Log records that could not be decoded and were skipped."}),
		folded: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "apilens_rollup_values_folded_total",
			Help: "Dimension values folded into OTHER past the cardinality cap."}, []string{"dimension"}),
		flushSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "apilens_rollup_flush_seconds", Help: "Duration of rollup flushes to the store, by tier.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)}, []string{"tier"}),
		flushRows: prometheus.NewCounter(prometheus.CounterOpts{Name: "apilens_rollup_flushed_rows_total", Help: "Rollup rows upserted."}),
		flushEvents: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "apilens_rollup_flush_events", Help: "Events covered by each flush.",
			Buckets: prometheus.ExponentialBuckets(100, 4, 10)}),
		flushErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "apilens_rollup_flush_errors_total", Help: "Failed flush attempts (retried)."}),
	}
	if reg != nil {
		reg.MustRegister(m.accepted, m.rejected, m.batches, m.duplicates, m.consumed, m.corrupt, m.folded,
			m.flushSeconds, m.flushRows, m.flushEvents, m.flushErrors)
	}
	return m
}

// Rejected counts events rejected by a receiver.
func (m *Metrics) Rejected(n int) { m.rejected.Add(float64(n)) }
