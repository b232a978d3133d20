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
	"sync/atomic"
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
	// Parallel counts the families of the second table (shardOf) on a
	// worker goroutine, for AddBatch; Close stops it.
	Parallel bool
}

// key identifies an entry. Dimension values are interned by the Limiter:
// a key of integers hashes and compares in a few nanoseconds, where one of
// seven strings cost most of the consumer's time, and a map of them holds
// no pointers for the garbage collector to scan.
type key struct {
	family apilens.Family
	bucket int64 // start of the base bucket, Unix seconds
	dims   [apilens.MaxDims]uint32
}

type entry struct {
	m        apilens.Counts
	response *sketch.Sketch
	backend  *sketch.Sketch
	// borrowed says the sketches belong to the one entry merged into this
	// one so far: under live traffic a month or year entry is made of one
	// day entry, and copying its sketches would only double them. The
	// first merge of a second entry copies them.
	borrowed bool
}

// Aggregator accumulates events. It is not safe for concurrent use.
//
// Its entries are in two tables by family (shardOf), so that with
// Options.Parallel a worker goroutine keeps the second while the caller's
// keeps the first: AddBatch maps a batch's events to their keys (the
// Limiter's work, which stays on the caller's goroutine) and counts the
// first table's families itself while the worker counts the previous
// batch's in the second.
type Aggregator struct {
	opts   Options
	tables [2]table
	limit  *Limiter
	// base is the granularity each family's entries are keyed at (baseOf),
	// by family; FamilyDevice is the last.
	base [apilens.FamilyDevice + 1]apilens.Granularity
	// fromEvents is set by Add: Drain must then derive the total and
	// application families.
	fromEvents bool

	// With Options.Parallel: two buffers of prepared events go round
	// between the caller (free, then filling) and the worker (work); n1 is
	// the size of the worker's table after its last batch.
	free, work chan *[]prepared
	filling    *[]prepared // taken from free, being filled by AddBatch
	workerDone chan struct{}
	n1         atomic.Int64
}

// table maps a key to its entry in entries: a map without pointers, and
// entries that are allocated once and reused after each Drain.
type table struct {
	index   map[key]int32
	entries []entry
}

// entry returns k's entry, a new one if k has none.
func (t *table) entry(k key) *entry {
	i, ok := t.index[k]
	if !ok {
		i = int32(len(t.entries))
		t.index[k] = i
		t.entries = append(t.entries, entry{})
	}
	return &t.entries[i]
}

// shardOf returns the table of family f's entries: the API's family (and
// the total, derived from it, and the application's, and the rare faults)
// in the first, the six others in the second. The caller's goroutine, which
// also maps events to keys (half the work), keeps the first.
func shardOf(f apilens.Family) int {
	switch f {
	case apilens.FamilyAPIApplication, apilens.FamilyResource, apilens.FamilyUser, apilens.FamilyDestination, apilens.FamilyGeo, apilens.FamilyDevice:
		return 1
	}
	return 0
}

// New returns an empty Aggregator. With Options.Parallel, Close stops its
// worker.
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
	a := &Aggregator{opts: opts, limit: opts.Limiter}
	for _, spec := range apilens.Families {
		a.base[spec.Family] = max(opts.Grans[0], spec.Finest)
	}
	for i := range a.tables {
		a.tables[i].index = make(map[key]int32)
	}
	if opts.Parallel {
		a.free, a.work = make(chan *[]prepared, 2), make(chan *[]prepared, 2)
		a.free <- new([]prepared)
		a.free <- new([]prepared)
		a.workerDone = make(chan struct{})
		go a.worker()
	}
	return a
}

// Close stops the worker of a parallel Aggregator, after the batches it
// was given.
func (a *Aggregator) Close() {
	if a.work != nil {
		a.handOff()
		close(a.work)
		<-a.workerDone
		a.work = nil
	}
}

func (a *Aggregator) worker() {
	defer close(a.workerDone)
	for buf := range a.work {
		for i := range *buf {
			a.apply(&(*buf)[i], 1)
		}
		a.n1.Store(int64(len(a.tables[1].index)))
		if cap(*buf) > maxKeptPrepared {
			*buf = nil // a rare large batch: don't keep its room (~530 bytes an event)
		}
		a.free <- buf
	}
}

// maxKeptPrepared bounds the events a buffer of prepared events keeps room
// for between batches.
const maxKeptPrepared = 10_000

// sync waits for the worker to finish the batches it was given: after it,
// the caller may touch both tables.
func (a *Aggregator) sync() {
	if a.work == nil {
		return
	}
	a.handOff()
	b1, b2 := <-a.free, <-a.free
	a.free <- b1
	a.free <- b2
}

// Len returns the number of in-memory entries, the measure of its size (a
// moment behind for the worker's table).
func (a *Aggregator) Len() int {
	if a.work != nil {
		return len(a.tables[0].index) + int(a.n1.Load())
	}
	return len(a.tables[0].index) + len(a.tables[1].index)
}

// entry returns k's entry, a new one if k has none; the caller must own
// k's table.
func (a *Aggregator) entry(k key) *entry { return a.tables[shardOf(k.family)].entry(k) }

// each calls fn for every entry; the caller owns both tables.
func (a *Aggregator) each(fn func(k key, en *entry)) {
	for t := range a.tables {
		tab := &a.tables[t]
		for k, i := range tab.index {
			fn(k, &tab.entries[i])
		}
	}
}

// prepared is an event mapped to the keys of its families' entries, with
// what it adds to each: no strings, so it outlives the event's batch.
type prepared struct {
	m    apilens.Counts
	lat  [2]sketch.Index // response and backend latency (sketch.NoValue: none)
	n    int
	keys [8]key
}

// Add counts one normalized, enriched event.
func (a *Aggregator) Add(e *apilens.Event) {
	a.sync()
	var p prepared
	a.prepare(e, &p)
	a.apply(&p, 0)
	a.apply(&p, 1)
}

// AddBatch counts a batch of normalized, enriched events, in parallel with
// Options.Parallel. The events may be reused once it returns.
func (a *Aggregator) AddBatch(events []apilens.Event) {
	if a.work == nil {
		for i := range events {
			a.Add(&events[i])
		}
		return
	}
	if a.filling == nil {
		a.filling = <-a.free
		*a.filling = (*a.filling)[:0]
	}
	n := len(*a.filling)
	ps := slices.Grow(*a.filling, len(events))[:n+len(events)]
	for i := range events {
		a.prepare(&events[i], &ps[n+i])
		a.apply(&ps[n+i], 0)
	}
	*a.filling = ps
	if len(ps) >= handOffEvents {
		a.handOff()
	}
}

// handOffEvents is how many prepared events the caller collects before it
// hands them to the worker: each hand-off may wake a goroutine, and one per
// gateway batch of 200 events is 1,500 a second at 300,000 events/s.
const handOffEvents = 2000

// handOff gives the buffer being filled, if any, to the worker.
func (a *Aggregator) handOff() {
	if a.filling != nil {
		a.work <- a.filling
		a.filling = nil
	}
}

// prepare maps e to its keys.
func (a *Aggregator) prepare(e *apilens.Event, p *prepared) {
	l := a.limit
	tenant := l.intern(e.Tenant())
	api := l.limited(tenant, capAPI, e.APIName)
	version := l.intern(e.APIVersion)
	app := l.limited(tenant, capApplication, e.ApplicationName)
	appOwner, appID := l.other, l.other
	if app != l.other {
		appOwner, appID = l.intern(e.ApplicationOwner), l.intern(e.ApplicationID)
	}
	var buckets [apilens.Year + 1]int64 // the bucket of each granularity in use; 0 until computed
	for _, g := range a.opts.Grans {
		buckets[g] = g.Truncate(e.RequestTimestamp).Unix()
	}
	p.m = apilens.Counts{}
	measure(e, &p.m)
	// Each latency's sketch index, computed once for all its families.
	p.lat = [2]sketch.Index{sketch.NoValue, sketch.NoValue}
	if !e.IsFault() {
		if e.ResponseLatency >= 0 {
			p.lat[0] = sketch.IndexOf(float64(e.ResponseLatency))
		}
		if e.BackendLatency >= 0 {
			p.lat[1] = sketch.IndexOf(float64(e.BackendLatency))
		}
	}
	p.n = 0
	key := func(f apilens.Family, dims ...uint32) {
		g := a.baseOf(f)
		if buckets[g] == 0 { // a family that starts coarser than the Aggregator's granularities
			buckets[g] = g.Truncate(e.RequestTimestamp).Unix()
		}
		k := &p.keys[p.n]
		*k = key{family: f, bucket: buckets[g]}
		copy(k.dims[:], dims)
		p.n++
	}
	// The total and application families are derived in Drain from api and
	// api_application: every event is in exactly one entry of each.
	a.fromEvents = true
	key(apilens.FamilyAPI, api, version, tenant, l.intern(e.APIContext), l.intern(e.APICreator))
	key(apilens.FamilyAPIApplication, api, app, version, appOwner, appID, tenant)
	key(apilens.FamilyResource, api, version, l.limited(tenant, capResource, e.APIResourceTemplate), l.intern(e.APIMethod), tenant)
	key(apilens.FamilyUser, app, l.limited(tenant, capUser, e.UserName), tenant)
	key(apilens.FamilyDestination, api, l.limited(tenant, capDestination, e.Destination), version, tenant)
	if e.IsFault() {
		key(apilens.FamilyFault, api, l.intern(e.ErrorType),
			l.limited(tenant, capErrorMessage, e.ErrorMessage), l.code(e.ErrorCode), app, version, tenant)
	}
	key(apilens.FamilyGeo, l.limited(tenant, capCountry, orNA(e.Country)), l.limited(tenant, capCity, orNA(e.City)), api, tenant)
	key(apilens.FamilyDevice, l.limited(tenant, capOS, orOther(e.OS)), l.limited(tenant, capBrowser, orOther(e.Browser)),
		l.limited(tenant, capDevice, orOther(e.Device)), api, tenant)
}

// apply counts p into the entries of its families in table t.
func (a *Aggregator) apply(p *prepared, t int) {
	tab := &a.tables[t]
	for i := range p.keys[:p.n] {
		k := &p.keys[i]
		if shardOf(k.family) != t {
			continue
		}
		en := tab.entry(*k)
		en.m.Add(&p.m)
		spec := k.family.Spec()
		if !spec.Latency {
			continue
		}
		if p.lat[0] != sketch.NoValue {
			if en.response == nil {
				en.response = sketch.New()
			}
			en.response.AddIndex(p.lat[0])
		}
		if p.lat[1] != sketch.NoValue && spec.Backend {
			if en.backend == nil {
				en.backend = sketch.New()
			}
			en.backend.AddIndex(p.lat[1])
		}
	}
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
func measure(e *apilens.Event, m *apilens.Counts) {
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
func (a *Aggregator) baseOf(f apilens.Family) apilens.Granularity { return a.base[f] }

// derive adds the total and application entries, sums of the api and
// api_application entries, which Add does not keep itself.
func (a *Aggregator) derive() {
	derived := make(map[key]*entry)
	a.each(func(k key, en *entry) {
		var d key
		switch k.family {
		case apilens.FamilyAPI: // api, apiVersion, tenant, …
			d = key{family: apilens.FamilyTotal, bucket: k.bucket}
			d.dims[0] = k.dims[2]
		case apilens.FamilyAPIApplication: // api, application, apiVersion, owner, id, tenant
			d = key{family: apilens.FamilyApplication, bucket: k.bucket}
			d.dims[0], d.dims[1], d.dims[2], d.dims[3] = k.dims[1], k.dims[3], k.dims[4], k.dims[5]
		default:
			return
		}
		t := derived[d]
		if t == nil {
			t = &entry{}
			derived[d] = t
		}
		t.merge(en)
	})
	for k, en := range derived {
		*a.entry(k) = *en
	}
}

// AddRows merges rows (drained from a finer Aggregator) into a's entries.
func (a *Aggregator) AddRows(rows []apilens.RollupRow) error {
	a.sync()
	for i := range rows {
		r := &rows[i]
		base := a.baseOf(r.Family)
		k := key{family: r.Family, bucket: base.Truncate(time.Unix(r.Bucket, 0)).Unix()}
		for i, d := range r.Dims {
			k.dims[i] = a.limit.intern(d)
		}
		en := a.entry(k)
		en.m.Add(&r.Counts)
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
// than the hour retention still counts in days, months and years). The two
// share memory: callers read them, never modify them.
func (a *Aggregator) Drain(now time.Time) (rows, carry []apilens.RollupRow) {
	a.sync()
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
	a.each(func(k key, en *entry) {
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
	})
	// A row is stored at the Aggregator's granularities while within
	// retention, and carried (when asked) at its coarsest one — or at its
	// family's base, for a family that starts coarser than the Aggregator
	// goes. Counting first sizes the slices exactly: they are the largest
	// allocation of a flush.
	decide := func(k key, g apilens.Granularity) (store, keep bool) {
		store = slices.Contains(a.opts.Grans, g) && k.family.Keeps(g, time.Unix(k.bucket, 0), now, a.opts.Retention)
		return store, a.opts.Carry && g >= top
	}
	// The rows share one array, laid out [stored only | stored and
	// carried | carried only], so that rows and carry are two windows of it
	// and a row in both is built once.
	var nStoreOnly, nBoth, nCarryOnly int
	count := func(k key, g apilens.Granularity) {
		switch store, keep := decide(k, g); {
		case store && keep:
			nBoth++
		case store:
			nStoreOnly++
		case keep:
			nCarryOnly++
		}
	}
	a.each(func(k key, _ *entry) { count(k, a.baseOf(k.family)) })
	for k := range coarse {
		count(k.key, k.gran)
	}
	all := make([]apilens.RollupRow, nStoreOnly+nBoth+nCarryOnly)
	next := [3]int{0, nStoreOnly, nStoreOnly + nBoth} // the next row of each part
	enc := encodings{}
	emit := func(k key, g apilens.Granularity, en *entry) {
		part := 0
		switch store, keep := decide(k, g); {
		case store && keep:
			part = 1
		case keep:
			part = 2
		case !store:
			return
		}
		all[next[part]] = a.row(k, g, en, enc)
		next[part]++
	}
	a.each(func(k key, en *entry) { emit(k, a.baseOf(k.family), en) })
	for k, en := range coarse {
		emit(k.key, k.gran, en)
	}
	rows = all[: nStoreOnly+nBoth : nStoreOnly+nBoth]
	if nBoth+nCarryOnly > 0 {
		carry = all[nStoreOnly:]
	}
	// The index and the entries keep their memory for the next round; the
	// sketches go, encoded into the rows.
	for t := range a.tables {
		tab := &a.tables[t]
		clear(tab.index)
		clear(tab.entries)
		tab.entries = tab.entries[:0]
	}
	a.n1.Store(0)
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
	en.m.Add(&o.m)
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

func (a *Aggregator) row(k key, g apilens.Granularity, en *entry, enc encodings) apilens.RollupRow {
	r := apilens.RollupRow{Family: k.family, Gran: g, Bucket: k.bucket, Measures: apilens.Measures{Counts: en.m}}
	for i, id := range k.dims {
		r.Dims[i] = a.limit.str(id)
	}
	r.ResponseSketch, r.BackendSketch = enc.of(en.response), enc.of(en.backend)
	return r
}

// Limiter caps the distinct values of each dimension per tenant, and
// interns the values of every dimension for the Aggregators that share it:
// each distinct string is stored once and keys hold its number. It is not
// safe for concurrent use: one consumer goroutine owns it.
//
// Interned values are kept for the life of the process, which the caps
// bound: a capped dimension's values are interned only when allowed, and
// the others (versions, contexts, creators, methods, owners, error types
// and codes) follow an API or an application.
type Limiter struct {
	cap    func(string) int
	onFold func(string)
	log    *slog.Logger

	ids   map[string]uint32 // interned values; "" is 0
	strs  []string          // by number
	other uint32            // apilens.Other
	codes map[int]uint32    // error codes, interned without formatting

	tenants map[uint32]*tenantValues
	caps    [len(cappedDims)]int
	// The last tenant looked up: the next event is nearly always of it.
	lastTenant uint32
	last       *tenantValues
}

// tenantValues are the values one tenant's capped dimensions have taken:
// a map of strings each, the fastest kind of map to look up.
type tenantValues struct {
	allowed [len(cappedDims)]map[string]uint32
	warned  [len(cappedDims)]bool
}

// The capped dimensions, by their index in cappedDims.
const (
	capAPI uint8 = iota
	capApplication
	capResource
	capUser
	capDestination
	capErrorMessage
	capCountry
	capCity
	capOS
	capBrowser
	capDevice
)

var cappedDims = [...]string{apilens.DimAPI, apilens.DimApplication, apilens.DimResource, apilens.DimUser,
	apilens.DimDestination, apilens.DimErrorMessage, apilens.DimCountry, apilens.DimCity, apilens.DimOS,
	apilens.DimBrowser, apilens.DimDevice}

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
	l := &Limiter{cap: cap, onFold: onFold, log: log,
		ids: make(map[string]uint32), codes: make(map[int]uint32),
		tenants: make(map[uint32]*tenantValues)}
	for i, d := range cappedDims {
		l.caps[i] = cap(d)
	}
	l.intern("")
	l.other = l.intern(apilens.Other)
	return l
}

// intern returns the number of s, numbering it if new.
func (l *Limiter) intern(s string) uint32 {
	if id, ok := l.ids[s]; ok {
		return id
	}
	// Clone: event strings are views of whole decoded batches, which a
	// long-lived table must not keep alive.
	s = strings.Clone(s)
	id := uint32(len(l.strs))
	l.strs = append(l.strs, s)
	l.ids[s] = id
	return id
}

// str returns the value numbered id.
func (l *Limiter) str(id uint32) string { return l.strs[id] }

// code returns the number of an error code's decimal form.
func (l *Limiter) code(c int) uint32 {
	id, ok := l.codes[c]
	if !ok {
		id = l.intern(strconv.Itoa(c))
		l.codes[c] = id
	}
	return id
}

// limited returns the number of v if capped dimension dim of tenant may
// take it, else that of OTHER.
func (l *Limiter) limited(tenant uint32, dim uint8, v string) uint32 {
	tv := l.last
	if tv == nil || tenant != l.lastTenant {
		tv = l.tenant(tenant)
	}
	allowed := tv.allowed[dim]
	if id, ok := allowed[v]; ok {
		return id
	}
	if len(allowed) >= l.caps[dim] {
		l.onFold(cappedDims[dim])
		if !tv.warned[dim] {
			tv.warned[dim] = true
			l.log.Warn("dimension reached its cap of distinct values; new values fold into OTHER",
				"tenant", l.str(tenant), "dimension", cappedDims[dim], "cap", l.caps[dim])
		}
		return l.other
	}
	id := l.intern(v)
	allowed[l.str(id)] = id
	return id
}

// tenant returns the values of tenant's capped dimensions, and makes them
// the last looked up.
func (l *Limiter) tenant(tenant uint32) *tenantValues {
	tv := l.tenants[tenant]
	if tv == nil {
		tv = &tenantValues{}
		for i := range tv.allowed {
			tv.allowed[i] = make(map[string]uint32)
		}
		l.tenants[tenant] = tv
	}
	l.lastTenant, l.last = tenant, tv
	return tv
}

// Value returns v if dimension dim of tenant may take it, else OTHER.
// Dimensions without a cap take every value.
func (l *Limiter) Value(tenant, dim, v string) string {
	for i, d := range cappedDims {
		if d == dim {
			return l.str(l.limited(l.intern(tenant), uint8(i), v))
		}
	}
	return v
}
