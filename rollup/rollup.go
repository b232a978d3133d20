// Package rollup aggregates events in memory into the rollup families of
// package apilens, ready to be flushed as additive deltas.
//
// Events are aggregated at minute granularity only; Drain derives the hour,
// day, month and year rows from the minute entries, so the per-event cost is
// one map update per family, not one per family and granularity. Rows whose
// bucket is already past its retention (a backfill of old events) are not
// emitted at that granularity.
package rollup

import (
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/sketch"
)

// Options configure an Aggregator. Zero values mean the defaults.
type Options struct {
	// Retention decides which granularities a bucket is still written at.
	Retention apilens.Retention
	// Cap returns the most distinct values dimension dim may take per
	// tenant; values past it fold into apilens.Other. Nil = 10,000.
	Cap func(dim string) int
	// OnFold is called when a value folds into OTHER (for a metric).
	OnFold func(dim string)
	Logger *slog.Logger
}

type key struct {
	family apilens.Family
	bucket int64 // minute start, Unix seconds
	dims   [apilens.MaxDims]string
}

type entry struct {
	m        apilens.Measures
	response *sketch.Sketch
	backend  *sketch.Sketch
}

// Aggregator accumulates events. It is not safe for concurrent use.
type Aggregator struct {
	opts    Options
	entries map[key]*entry
	limit   *Limiter
}

// New returns an empty Aggregator.
func New(opts Options) *Aggregator {
	if opts.Retention == nil {
		opts.Retention = apilens.DefaultRetention()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Aggregator{
		opts:    opts,
		entries: make(map[key]*entry),
		limit:   NewLimiter(opts.Cap, opts.OnFold, opts.Logger),
	}
}

// Len returns the number of in-memory entries, the measure of its size.
func (a *Aggregator) Len() int { return len(a.entries) }

// Add counts one normalized, enriched event.
func (a *Aggregator) Add(e *apilens.Event) {
	tenant := e.Tenant()
	api := a.limit.Value(tenant, apilens.DimAPI, e.APIName)
	version := e.APIVersion
	app := a.limit.Value(tenant, apilens.DimApplication, e.ApplicationName)
	appOwner, appID := e.ApplicationOwner, e.ApplicationID
	if app == apilens.Other {
		appOwner, appID = apilens.Other, apilens.Other
	}
	bucket := e.RequestTimestamp.Truncate(time.Minute).Unix()

	var m apilens.Measures
	measure(e, &m)

	a.add(apilens.FamilyTotal, bucket, e, &m, tenant)
	a.add(apilens.FamilyAPI, bucket, e, &m, api, version, tenant, e.APIContext, e.APICreator)
	a.add(apilens.FamilyApplication, bucket, e, &m, app, appOwner, appID, tenant)
	a.add(apilens.FamilyAPIApplication, bucket, e, &m, api, app, version, appOwner, appID, tenant)
	a.add(apilens.FamilyResource, bucket, e, &m, api, version,
		a.limit.Value(tenant, apilens.DimResource, e.APIResourceTemplate), e.APIMethod, tenant)
	a.add(apilens.FamilyUser, bucket, e, &m, app, a.limit.Value(tenant, apilens.DimUser, e.UserName), api, tenant)
	a.add(apilens.FamilyDestination, bucket, e, &m, api,
		a.limit.Value(tenant, apilens.DimDestination, e.Destination), version, tenant)
	if e.IsFault() {
		a.add(apilens.FamilyFault, bucket, e, &m, api, e.ErrorType,
			a.limit.Value(tenant, apilens.DimErrorMessage, e.ErrorMessage), strconv.Itoa(e.ErrorCode), app, version, tenant)
	}
	a.add(apilens.FamilyGeo, bucket, e, &m,
		a.limit.Value(tenant, apilens.DimCountry, orNA(e.Country)), a.limit.Value(tenant, apilens.DimCity, orNA(e.City)), api, tenant)
	a.add(apilens.FamilyDevice, bucket, e, &m,
		a.limit.Value(tenant, apilens.DimOS, orOther(e.OS)), a.limit.Value(tenant, apilens.DimBrowser, orOther(e.Browser)),
		a.limit.Value(tenant, apilens.DimDevice, orOther(e.Device)), api, tenant)
}

func orNA(s string) string {
	if s == "" {
		return apilens.NotAvailable
	}
	return s
}

func orOther(s string) string {
	if s == "" {
		return "Other"
	}
	return s
}

// measure fills m with the figures of one event (SPEC §5 definitions).
func measure(e *apilens.Event, m *apilens.Measures) {
	m.Requests = 1
	switch {
	case e.IsThrottled():
		m.Throttled = 1
	case e.IsFault():
		m.Faults = 1
		switch e.ErrorType {
		case apilens.FaultAuth:
			m.FaultAuth = 1
		case apilens.FaultTargetConnectivity:
			m.FaultTarget = 1
		default:
			m.FaultOther = 1
		}
	default:
		if e.ProxyResponseCode < 400 {
			m.Successful = 1
		}
		if e.ResponseLatency >= 0 {
			m.Responses = 1
			m.ResponseLatencySum = e.ResponseLatency
		}
		m.BackendLatencySum = max(e.BackendLatency, 0)
		m.RequestMediationLatencySum = max(e.RequestMediationLatency, 0)
		m.ResponseMediationLatencySum = max(e.ResponseMediationLatency, 0)
	}
	switch e.ProxyResponseCode / 100 {
	case 2:
		m.Status2xx = 1
	case 3:
		m.Status3xx = 1
	case 4:
		m.Status4xx = 1
	case 5:
		m.Status5xx = 1
	}
	if e.ResponseCacheHit {
		m.CacheHits = 1
	}
}

func (a *Aggregator) add(f apilens.Family, bucket int64, e *apilens.Event, m *apilens.Measures, dims ...string) {
	k := key{family: f, bucket: bucket}
	copy(k.dims[:], dims)
	en := a.entries[k]
	if en == nil {
		en = &entry{}
		a.entries[k] = en
	}
	en.m.AddCounts(m)
	if !f.Spec().Latency || e.IsFault() {
		return
	}
	if e.ResponseLatency >= 0 {
		if en.response == nil {
			en.response = sketch.New()
		}
		en.response.Add(float64(e.ResponseLatency))
	}
	if e.BackendLatency >= 0 {
		if en.backend == nil {
			en.backend = sketch.New()
		}
		en.backend.Add(float64(e.BackendLatency))
	}
}

// Drain returns the accumulated rows at every granularity still within
// retention at now, with encoded sketches, and empties the Aggregator.
func (a *Aggregator) Drain(now time.Time) []apilens.RollupRow {
	coarse := make(map[key]*entry, len(a.entries))
	rows := make([]apilens.RollupRow, 0, 2*len(a.entries))
	for k, en := range a.entries {
		minute := time.Unix(k.bucket, 0).UTC()
		if k.family.Keeps(apilens.Minute, minute, now, a.opts.Retention) {
			rows = append(rows, row(k, apilens.Minute, en))
		}
		for _, g := range apilens.Granularities[1:] {
			b := g.Truncate(minute)
			if !k.family.Keeps(g, b, now, a.opts.Retention) {
				continue
			}
			ck := k
			ck.bucket = b.Unix()
			ck.family = k.family | apilens.Family(g)<<5 // gran rides in the top bits of the map key
			c := coarse[ck]
			if c == nil {
				c = &entry{}
				coarse[ck] = c
			}
			c.m.AddCounts(&en.m)
			c.response = mergeSketch(c.response, en.response)
			c.backend = mergeSketch(c.backend, en.backend)
		}
	}
	for k, en := range coarse {
		g := apilens.Granularity(k.family >> 5)
		k.family &= 0x1f
		rows = append(rows, row(k, g, en))
	}
	a.entries = make(map[key]*entry, len(a.entries))
	return rows
}

func mergeSketch(dst, src *sketch.Sketch) *sketch.Sketch {
	if src == nil {
		return dst
	}
	if dst == nil {
		dst = sketch.New()
	}
	dst.Merge(src)
	return dst
}

func row(k key, g apilens.Granularity, en *entry) apilens.RollupRow {
	r := apilens.RollupRow{Family: k.family, Gran: g, Bucket: k.bucket, Dims: k.dims, Measures: en.m}
	if en.response != nil {
		r.ResponseSketch = en.response.Encode()
	}
	if en.backend != nil {
		r.BackendSketch = en.backend.Encode()
	}
	return r
}

// Limiter caps the distinct values of each dimension per tenant. It is
// safe for concurrent use.
type Limiter struct {
	cap    func(string) int
	onFold func(string)
	log    *slog.Logger
	mu     sync.Mutex
	sets   map[limitKey]map[string]struct{}
	warned map[limitKey]bool
}

type limitKey struct{ tenant, dim string }

// NewLimiter returns a Limiter; see Options for the arguments.
func NewLimiter(cap func(string) int, onFold func(string), log *slog.Logger) *Limiter {
	if cap == nil {
		cap = func(string) int { return 10000 }
	}
	if onFold == nil {
		onFold = func(string) {}
	}
	return &Limiter{cap: cap, onFold: onFold, log: log,
		sets: make(map[limitKey]map[string]struct{}), warned: make(map[limitKey]bool)}
}

// Value returns v if dimension dim of tenant may take it, else OTHER.
func (l *Limiter) Value(tenant, dim, v string) string {
	k := limitKey{tenant, dim}
	l.mu.Lock()
	defer l.mu.Unlock()
	set := l.sets[k]
	if _, ok := set[v]; ok {
		return v
	}
	if set == nil {
		set = make(map[string]struct{})
		l.sets[k] = set
	}
	if len(set) >= l.cap(dim) {
		l.onFold(dim)
		if !l.warned[k] {
			l.warned[k] = true
			l.log.Warn("dimension reached its cap of distinct values; new values fold into OTHER",
				"tenant", tenant, "dimension", dim, "cap", l.cap(dim))
		}
		return apilens.Other
	}
	set[v] = struct{}{}
	return v
}
