package ingest

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/loganalyzer"
)

// LogIngester parses gateway log lines, classifies each record as it
// arrives (no batch job: the pages are current the moment a batch is
// acknowledged), stores them, and hands them to live subscribers.
//
// Logs go straight to the database in one transaction per request rather
// than through the event spool: a log batch is small next to a second of
// events, the records need their sequence numbers at once for the log
// viewer, and a committed transaction is as durable as the spool's fsync.
type LogIngester struct {
	store      apilens.LogStore
	classifier *loganalyzer.Classifier
	zone       func(source string) *time.Location
	now        func() time.Time
	hub        *LogHub

	received *prometheus.CounterVec
}

// LogOptions configure a LogIngester.
type LogOptions struct {
	Store      apilens.LogStore
	Classifier *loganalyzer.Classifier
	// Zone gives a source's time zone, for timestamps that carry none;
	// nil means UTC for every source.
	Zone func(source string) *time.Location
	// Registry receives the log metrics; nil registers none.
	Registry prometheus.Registerer
	Now      func() time.Time
}

// NewLogIngester returns a LogIngester.
func NewLogIngester(o LogOptions) *LogIngester {
	li := &LogIngester{
		store: o.Store, classifier: o.Classifier, zone: o.Zone, now: o.Now, hub: NewLogHub(),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apilens_log_records_total",
			Help: "Log records stored, by whether a known layout parsed them.",
		}, []string{"parsed"}),
	}
	if li.now == nil {
		li.now = time.Now
	}
	if li.zone == nil {
		li.zone = func(string) *time.Location { return time.UTC }
	}
	if o.Registry != nil {
		o.Registry.MustRegister(li.received)
	}
	return li
}

// Hub returns the live feed of stored records.
func (li *LogIngester) Hub() *LogHub { return li.hub }

// LogResult is what one ingested batch came to.
type LogResult struct {
	Accepted int         `json:"accepted"`
	Unparsed int         `json:"unparsed"` // kept as raw records
	Rejected []Rejection `json:"rejected"` // NDJSON items that were not log events
	// Duplicate is true when the batch's idempotency key was seen before:
	// acknowledged again, stored once.
	Duplicate bool `json:"duplicate,omitempty"`
}

// Carbon ingests wso2carbon.log text of one source: records that start
// with one of the carbon layouts, continuation lines joined to the record
// above. Lines no layout matches are kept as raw records. A batch with a
// key (the publisher's and its Idempotency-Key) stored before is
// acknowledged again but not stored again.
func (li *LogIngester) Carbon(ctx context.Context, key, source string, body []byte) (*LogResult, error) {
	if source == "" {
		return nil, apilens.Errorf(apilens.EINVALID, "source is required: name the host or file the lines come from")
	}
	p := loganalyzer.NewParser(source, li.zone(source))
	var recs []apilens.LogRecord
	emit := func(r apilens.LogRecord) { recs = append(recs, r) }
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		p.Feed(bytes.TrimSuffix(line, []byte{'\r'}), emit)
	}
	p.Flush(emit)
	return li.keep(ctx, key, recs, nil)
}

// NDJSON ingests log events, one JSON object a line; a line that is not
// a log event is rejected with its reason, the others are kept. source
// names the records that name none; key is as for Carbon.
func (li *LogIngester) NDJSON(ctx context.Context, key, source string, body []byte) (*LogResult, error) {
	var recs []apilens.LogRecord
	var rejected []Rejection
	for i := 0; len(body) > 0; i++ {
		line := body
		if j := bytes.IndexByte(body, '\n'); j >= 0 {
			line, body = body[:j], body[j+1:]
		} else {
			body = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		r, err := loganalyzer.ParseJSON(line)
		if err != nil {
			rejected = append(rejected, Rejection{Index: i, Error: err.Error()})
			continue
		}
		if r.Source == "" {
			r.Source = source
		}
		if r.Source == "" {
			rejected = append(rejected, Rejection{Index: i, Error: `field "source": missing, and no source parameter`})
			continue
		}
		recs = append(recs, r)
	}
	return li.keep(ctx, key, recs, rejected)
}

// Records ingests records decoded elsewhere (the data-bridge's
// loganalyzer stream); key is as for Carbon.
func (li *LogIngester) Records(ctx context.Context, key string, recs []apilens.LogRecord) (*LogResult, error) {
	return li.keep(ctx, key, recs, nil)
}

// keep classifies, stores and publishes one batch.
func (li *LogIngester) keep(ctx context.Context, key string, recs []apilens.LogRecord, rejected []Rejection) (*LogResult, error) {
	res := &LogResult{Accepted: len(recs), Rejected: rejected}
	if res.Rejected == nil {
		res.Rejected = []Rejection{}
	}
	now := li.now().UTC()
	for i := range recs {
		r := &recs[i]
		if r.Time.IsZero() {
			r.Time = now // a raw line before any timestamp: its arrival time
		}
		if !r.Parsed {
			res.Unparsed++
		}
		li.classifier.Classify(r)
	}
	if len(recs) == 0 {
		return res, nil
	}
	dup, err := li.store.AppendLogs(ctx, key, recs)
	if err != nil {
		return nil, apilens.Errorf(apilens.EUNAVAILABLE, "cannot store the log records: %v", err)
	}
	if dup {
		res.Duplicate = true
		return res, nil
	}
	li.received.WithLabelValues("true").Add(float64(len(recs) - res.Unparsed))
	li.received.WithLabelValues("false").Add(float64(res.Unparsed))
	li.hub.publish(recs)
	return res, nil
}

// LogHub hands stored records to live subscribers (the live log viewer). A
// subscriber that does not keep up loses records rather than slowing
// ingestion, and is told how many.
type LogHub struct {
	mu   sync.Mutex
	subs map[*LogSubscription]struct{}
}

// LogSubscription is one live subscriber.
type LogSubscription struct {
	C       chan []apilens.LogRecord
	mu      sync.Mutex
	dropped int64
}

// NewLogHub returns an empty hub.
func NewLogHub() *LogHub { return &LogHub{subs: map[*LogSubscription]struct{}{}} }

// Subscribe returns a subscription; call Unsubscribe when done.
func (h *LogHub) Subscribe() *LogSubscription {
	s := &LogSubscription{C: make(chan []apilens.LogRecord, 64)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Unsubscribe ends s.
func (h *LogHub) Unsubscribe(s *LogSubscription) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
}

// Dropped returns and resets the number of records s lost since the last
// call.
func (s *LogSubscription) Dropped() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.dropped
	s.dropped = 0
	return n
}

func (h *LogHub) publish(recs []apilens.LogRecord) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		select {
		case s.C <- recs:
		default:
			s.mu.Lock()
			s.dropped += int64(len(recs))
			s.mu.Unlock()
		}
	}
}
