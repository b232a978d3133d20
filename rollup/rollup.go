// Package rollup aggregates events in memory into the rollup families of
// package apilens, ready to be flushed as additive deltas.
//
// An Aggregator aggregates at one base granularity (minute for the fine
// tier, day for the coarse one) and Drain derives the coarser rows it emits
// from the base entries, so the per-event cost is one map update per
// family, not one per family and granularity. Rows whose bucket is already
// past its retention (a backfill of old events) are not emitted at that
// granularity.
package rollup

import (
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/sketch"
)

// Options configure an Aggregator. Zero values mean the defaults.
type Options struct {
	// Grans are the granularities Drain emits, finest first; the first is
	// the base the Aggregator keys its entries by. Default: all of them.
	Grans []apilens.Granularity
	// Carry makes Drain return the carry rows, for a coarser Aggregator to
	// take on; without it Drain builds none.
	Carry bool
	// Limiter caps distinct values; share one between the Aggregators of
	// one pipeline so they fold the same values. Nil: a new one from Cap,
	// OnFold and Logger.
	Limiter *Limiter
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
	bucket int64 // start of the base bucket, Unix seconds
	dims   [apilens.MaxDims]string
}

type entry struct {
	m        apilens.Measures
	response *sketch.Sketch
	backend  *sketch.Sketch
	// borrowed says the sketches belong to the one entry merged into this
	// one so far: under live traffic a month or year entry is made of one
	// day entry, and copying its sketches would only double them. The
	// first merge of a second entry copies them.
	borrowed bool
}

// Aggregator accumulates events. It is not safe for concurrent use.
type Aggregator struct {
	opts    Options
	entries map[key]*entry
	limit   *Limiter
	// fromEvents is set by Add: Drain must then derive the total and
	// application families.
	fromEvents bool
}

// New returns an empty Aggregator.
func New(opts Options) *Aggregator {
	if opts.Retention == nil {
		opts.Retention = apilens.DefaultRetention()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if len(opts.Grans) == 0 {
		opts.Grans = apilens.Granularities
	}
	if opts.Limiter == nil {
		opts.Limiter = NewLimiter(opts.Cap, opts.OnFold, opts.Logger)
	}
	return &Aggregator{
		opts:    opts,
		entries: make(map[key]*entry),
		limit:   opts.Limiter,
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
	var buckets [apilens.Year + 1]int64 // the bucket of each granularity in use; 0 until computed
	for _, g := range a.opts.Grans {
		buckets[g] = g.Truncate(e.RequestTimestamp).Unix()
	}

	var m apilens.Measures
	measure(e, &m)

	// The total and application families are derived in Drain from api and
	// api_application: every event is in exactly one entry of each.
	a.fromEvents = true
	a.add(apilens.FamilyAPI, &buckets, e, &m, api, version, tenant, e.APIContext, e.APICreator)
	a.add(apilens.FamilyAPIApplication, &buckets, e, &m, api, app, version, appOwner, appID, tenant)
	a.add(apilens.FamilyResource, &buckets, e, &m, api, version,
		a.limit.Value(tenant, apilens.DimResource, e.APIResourceTemplate), e.APIMethod, tenant)
	a.add(apilens.FamilyUser, &buckets, e, &m, app, a.limit.Value(tenant, apilens.DimUser, e.UserName), tenant)
	a.add(apilens.FamilyDestination, &buckets, e, &m, api,
		a.limit.Value(tenant, apilens.DimDestination, e.Destination), version, tenant)
	if e.IsFault() {
		a.add(apilens.FamilyFault, &buckets, e, &m, api, e.ErrorType,
			a.limit.Value(tenant, apilens.DimErrorMessage, e.ErrorMessage), strconv.Itoa(e.ErrorCode), app, version, tenant)
	}
	a.add(apilens.FamilyGeo, &buckets, e, &m,
		a.limit.Value(tenant, apilens.DimCountry, orNA(e.Country)), a.limit.Value(tenant, apilens.DimCity, orNA(e.City)), api, tenant)
	a.add(apilens.FamilyDevice, &buckets, e, &m,
		a.limit.Value(tenant, apilens.DimOS, orOther(e.OS)), a.limit.Value(tenant, apilens.DimBrowser, orOther(e.Browser)),
		a.limit.Value(tenant, apilens.DimDevice, orOther(e.Device)), api, tenant)
}

// cloneDims copies k's dimension values: event strings are views of whole
// decoded batches, which a long-lived map key must not keep alive.
func cloneDims(k key) key {
	for i, d := range k.dims {
		k.dims[i] = strings.Clone(d)
	}
	return k
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

// baseOf returns the granularity the entries of family f are keyed at: the
// Aggregator's base, or the family's finest if that is coarser.
func (a *Aggregator) baseOf(f apilens.Family) apilens.Granularity {
	return max(a.opts.Grans[0], f.Spec().Finest)
}

func (a *Aggregator) add(f apilens.Family, buckets *[apilens.Year + 1]int64, e *apilens.Event, m *apilens.Measures, dims ...string) {
	g := a.baseOf(f)
	if buckets[g] == 0 { // a family that starts coarser than the Aggregator's granularities
		buckets[g] = g.Truncate(e.RequestTimestamp).Unix()
	}
	k := key{family: f, bucket: buckets[g]}
	copy(k.dims[:], dims)
	en := a.entries[k]
	if en == nil {
		en = &entry{}
		a.entries[cloneDims(k)] = en
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
	if e.BackendLatency >= 0 && f.Spec().Backend {
		if en.backend == nil {
			en.backend = sketch.New()
		}
		en.backend.Add(float64(e.BackendLatency))
	}
}

// derive adds the total and application entries, sums of the api and
// api_application entries, which Add does not keep itself.
func (a *Aggregator) derive() {
	derived := make(map[key]*entry)
	for k, en := range a.entries {
		var d key
		switch k.family {
		case apilens.FamilyAPI: // api, apiVersion, tenant, …
			d = key{family: apilens.FamilyTotal, bucket: k.bucket}
			d.dims[0] = k.dims[2]
		case apilens.FamilyAPIApplication: // api, application, apiVersion, owner, id, tenant
			d = key{family: apilens.FamilyApplication, bucket: k.bucket}
			d.dims[0], d.dims[1], d.dims[2], d.dims[3] = k.dims[1], k.dims[3], k.dims[4], k.dims[5]
		default:
			continue
		}
		t := derived[d]
		if t == nil {
			t = &entry{}
			derived[d] = t
		}
		t.merge(en)
	}
	for k, en := range derived {
		a.entries[k] = en
	}
}

// AddRows merges rows (drained from a finer Aggregator) into a's entries.
func (a *Aggregator) AddRows(rows []apilens.RollupRow) error {
	for i := range rows {
		r := &rows[i]
		base := a.baseOf(r.Family)
		k := key{family: r.Family, bucket: base.Truncate(time.Unix(r.Bucket, 0)).Unix(), dims: r.Dims}
		en := a.entries[k]
		if en == nil {
			en = &entry{}
			a.entries[cloneDims(k)] = en
		}
		en.m.AddCounts(&r.Measures)
		var err error
		if en.response, err = mergeEncoded(en.response, r.ResponseSketch); err != nil {
			return err
		}
		if en.backend, err = mergeEncoded(en.backend, r.BackendSketch); err != nil {
			return err
		}
	}
	return nil
}

func mergeEncoded(dst *sketch.Sketch, b []byte) (*sketch.Sketch, error) {
	if len(b) == 0 {
		return dst, nil
	}
	if dst == nil {
		return sketch.Decode(b)
	}
	return dst, dst.MergeEncoded(b)
}

// Drain empties the Aggregator. It returns the rows to store — at each of
// its granularities, those still within retention at now — and, with
// Options.Carry, the carry: every row at its coarsest granularity,
// retention or not, for a coarser Aggregator to take on (a backfill older
// than the hour retention still counts in days, months and years).
func (a *Aggregator) Drain(now time.Time) (rows, carry []apilens.RollupRow) {
	if a.fromEvents {
		a.derive()
		a.fromEvents = false
	}
	type coarseKey struct {
		key
		gran apilens.Granularity
	}
	top := a.opts.Grans[len(a.opts.Grans)-1]
	coarse := make(map[coarseKey]*entry)
	for k, en := range a.entries {
		base := a.baseOf(k.family)
		b0 := time.Unix(k.bucket, 0).UTC()
		for _, g := range a.opts.Grans {
			if g <= base {
				continue
			}
			ck := coarseKey{k, g}
			ck.bucket = g.Truncate(b0).Unix()
			c := coarse[ck]
			if c == nil {
				c = &entry{}
				coarse[ck] = c
			}
			c.merge(en)
		}
	}
	// A row is stored at the Aggregator's granularities while within
	// retention, and carried (when asked) at its coarsest one — or at its
	// family's base, for a family that starts coarser than the Aggregator
	// goes. Counting first sizes the slices exactly: they are the largest
	// allocation of a flush.
	decide := func(k key, g apilens.Granularity) (store, keep bool) {
		store = slices.Contains(a.opts.Grans, g) && k.family.Keeps(g, time.Unix(k.bucket, 0), now, a.opts.Retention)
		return store, a.opts.Carry && g >= top
	}
	var nstore, ncarry int
	count := func(k key, g apilens.Granularity) {
		store, keep := decide(k, g)
		nstore += b2i(store)
		ncarry += b2i(keep)
	}
	for k := range a.entries {
		count(k, a.baseOf(k.family))
	}
	for k := range coarse {
		count(k.key, k.gran)
	}
	rows = make([]apilens.RollupRow, 0, nstore)
	if ncarry > 0 {
		carry = make([]apilens.RollupRow, 0, ncarry)
	}
	enc := encodings{}
	emit := func(k key, g apilens.Granularity, en *entry) {
		store, keep := decide(k, g)
		if !store && !keep {
			return
		}
		r := row(k, g, en, enc)
		if store {
			rows = append(rows, r)
		}
		if keep {
			carry = append(carry, r)
		}
	}
	for k, en := range a.entries {
		emit(k, a.baseOf(k.family), en)
	}
	for k, en := range coarse {
		emit(k.key, k.gran, en)
	}
	a.entries = make(map[key]*entry, len(a.entries))
	return rows, carry
}

// merge adds o's measures and sketches to en.
// merge adds o's measures and sketches to en, a derived entry (en's own
// sketches are only ever borrowed or merged into, never added to by Add).
func (en *entry) merge(o *entry) {
	if en.m.Requests == 0 && en.response == nil && en.backend == nil {
		en.m, en.response, en.backend, en.borrowed = o.m, o.response, o.backend, true
		return
	}
	if en.borrowed {
		en.response, en.backend, en.borrowed = copySketch(en.response), copySketch(en.backend), false
	}
	en.m.AddCounts(&o.m)
	en.response = mergeSketch(en.response, o.response)
	en.backend = mergeSketch(en.backend, o.backend)
}

func copySketch(s *sketch.Sketch) *sketch.Sketch {
	if s == nil {
		return nil
	}
	return s.Copy()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
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

// encodings remembers the encoding of each sketch during one Drain, so the
// rows that share a sketch (a day and its month and year) share its bytes.
type encodings map[*sketch.Sketch][]byte

func (c encodings) of(s *sketch.Sketch) []byte {
	if s == nil {
		return nil
	}
	b, ok := c[s]
	if !ok {
		b = s.Encode()
		c[s] = b
	}
	return b
}

func row(k key, g apilens.Granularity, en *entry, enc encodings) apilens.RollupRow {
	r := apilens.RollupRow{Family: k.family, Gran: g, Bucket: k.bucket, Dims: k.dims, Measures: en.m}
	r.ResponseSketch, r.BackendSketch = enc.of(en.response), enc.of(en.backend)
	return r
}

// Limiter caps the distinct values of each dimension per tenant. It is not
// safe for concurrent use: one consumer goroutine owns it.
type Limiter struct {
	cap    func(string) int
	onFold func(string)
	log    *slog.Logger
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
	if log == nil {
		log = slog.Default()
	}
	return &Limiter{cap: cap, onFold: onFold, log: log,
		sets: make(map[limitKey]map[string]struct{}), warned: make(map[limitKey]bool)}
}

// Value returns v if dimension dim of tenant may take it, else OTHER.
func (l *Limiter) Value(tenant, dim, v string) string {
	k := limitKey{tenant, dim}
	set := l.sets[k]
	if _, ok := set[v]; ok {
		return v
	}
	if set == nil {
		set = make(map[string]struct{})
		l.sets[limitKey{strings.Clone(tenant), dim}] = set
	}
	if len(set) >= l.cap(dim) {
		l.onFold(dim)
		if !l.warned[k] {
			l.warned[limitKey{strings.Clone(tenant), dim}] = true
			l.log.Warn("dimension reached its cap of distinct values; new values fold into OTHER",
				"tenant", tenant, "dimension", dim, "cap", l.cap(dim))
		}
		return apilens.Other
	}
	set[strings.Clone(v)] = struct{}{}
	return v
}
