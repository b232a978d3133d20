package query

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/sketch"
)

// Service answers queries from a rollup store.
type Service struct {
	store     rollupReader
	retention apilens.Retention
	now       func() time.Time
}

// rollupReader is the part of the store a Service reads.
type rollupReader interface {
	QueryRollups(ctx context.Context, q apilens.RollupQuery, fn func(*apilens.RollupRow) error) error
}

// New returns a Service over store; retention tells which granularities
// still hold a range; now is the clock (nil = time.Now).
func New(store rollupReader, retention apilens.Retention, now func() time.Time) *Service {
	if retention == nil {
		retention = apilens.DefaultRetention()
	}
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, retention: retention, now: now}
}

// Filter restricts a query to a tenant, API (name, optionally version),
// application (name) and client country (ISO 3166-1 alpha-2 code, as
// enrichment stores it; only the geo breakdowns have it). Empty fields
// match everything.
type Filter struct {
	Tenant      string
	API         string
	APIVersion  string
	Application string
	Country     string
}

func (f Filter) dims() map[string]string {
	m := map[string]string{}
	if f.Tenant != "" {
		m[apilens.DimTenant] = f.Tenant
	}
	if f.API != "" {
		m[apilens.DimAPI] = f.API
	}
	if f.APIVersion != "" {
		m[apilens.DimAPIVersion] = f.APIVersion
	}
	if f.Application != "" {
		m[apilens.DimApplication] = f.Application
	}
	if f.Country != "" {
		m[apilens.DimCountry] = f.Country
	}
	return m
}

// Latency are latency figures in milliseconds.
type Latency struct {
	Avg float64 `json:"avg"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// Figures are the headline numbers of a set of events (SPEC §5).
type Figures struct {
	Requests   int64    `json:"requests"`
	Successful int64    `json:"successful"`
	Faults     int64    `json:"faults"`
	Throttled  int64    `json:"throttled"`
	Errors4xx  int64    `json:"errors4xx"`
	Errors5xx  int64    `json:"errors5xx"`
	Latency    *Latency `json:"latency,omitempty"`
}

// acc accumulates rollup rows.
type acc struct {
	m                 apilens.Measures
	response, backend *sketch.Sketch
}

func (a *acc) add(r *apilens.RollupRow) error {
	a.m.AddCounts(&r.Measures)
	if len(r.ResponseSketch) > 0 {
		if a.response == nil {
			a.response = sketch.New()
		}
		if err := a.response.MergeEncoded(r.ResponseSketch); err != nil {
			return err
		}
	}
	if len(r.BackendSketch) > 0 {
		if a.backend == nil {
			a.backend = sketch.New()
		}
		if err := a.backend.MergeEncoded(r.BackendSketch); err != nil {
			return err
		}
	}
	return nil
}

func (a *acc) figures(latency bool) Figures {
	f := Figures{
		Requests: a.m.Requests, Successful: a.m.Successful, Faults: a.m.Faults,
		Throttled: a.m.Throttled, Errors4xx: a.m.Status4xx, Errors5xx: a.m.Status5xx,
	}
	if latency {
		l := Latency{}
		if a.m.Responses > 0 {
			l.Avg = round(float64(a.m.ResponseLatencySum) / float64(a.m.Responses))
		}
		if a.response != nil {
			l.P50 = round(a.response.Quantile(0.50))
			l.P90 = round(a.response.Quantile(0.90))
			l.P95 = round(a.response.Quantile(0.95))
			l.P99 = round(a.response.Quantile(0.99))
		}
		f.Latency = &l
	}
	return f
}

// round keeps two decimals: the sketch is exact to 1%, more digits lie.
func round(v float64) float64 { return math.Round(v*100) / 100 }

// chooseFamily returns the family that holds every dimension in need,
// preferring one with latency if wanted, one whose indexed first dimension
// is filtered, and then the narrowest.
func chooseFamily(need []string, filtered map[string]string, latency bool) (apilens.Family, error) {
	best, bestScore := apilens.Family(0), -1
	for _, spec := range apilens.Families {
		ok := true
		for _, d := range need {
			if !slices.Contains(spec.Dims, d) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		score := 100 - len(spec.Dims)
		if _, f := filtered[spec.Dims[0]]; f {
			score += 100
		}
		if latency && spec.Latency {
			score += 1000
		}
		if score > bestScore {
			best, bestScore = spec.Family, score
		}
	}
	if best == 0 {
		return 0, apilens.Errorf(apilens.EINVALID, "no rollup holds the dimensions %s together", strings.Join(need, ", "))
	}
	return best, nil
}

// selection is a family with the filters mapped to its dimension positions.
type selection struct {
	family apilens.Family
	filter map[int]string
}

func selectFamily(filter Filter, groupBy []string, latency bool) (selection, error) {
	fd := filter.dims()
	need := slices.Clone(groupBy)
	for d := range fd {
		need = append(need, d)
	}
	sort.Strings(need)
	f, err := chooseFamily(need, fd, latency)
	if err != nil {
		return selection{}, err
	}
	s := selection{family: f, filter: map[int]string{}}
	for d, v := range fd {
		s.filter[f.DimIndex(d)] = v
	}
	return s, nil
}

func (s *Service) scan(ctx context.Context, sel selection, g apilens.Granularity, from, to time.Time, fn func(*apilens.RollupRow) error) error {
	q := apilens.RollupQuery{Family: sel.family, Gran: g, From: from.Unix(), To: to.Unix(), Filter: sel.filter}
	if err := s.store.QueryRollups(ctx, q, fn); err != nil {
		return fmt.Errorf("query %s rollups at %s: %w", sel.family, g, err)
	}
	return nil
}

// Summary holds the figures of a range and the range they cover.
type Summary struct {
	Figures
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Summary returns the figures of every event in [from, to) that filter
// matches.
func (s *Service) Summary(ctx context.Context, from, to time.Time, filter Filter) (*Summary, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	sel, err := selectFamily(filter, nil, true)
	if err != nil {
		return nil, err
	}
	spans, covered := plan(sel.family, from, to, s.now(), s.retention)
	var a acc
	for _, sp := range spans {
		if err := s.scan(ctx, sel, sp.gran, sp.from, sp.to, a.add); err != nil {
			return nil, err
		}
	}
	return &Summary{Figures: a.figures(true), From: covered[0], To: covered[1]}, nil
}

func checkRange(from, to time.Time) error {
	if from.IsZero() || to.IsZero() {
		return apilens.Errorf(apilens.EINVALID, "from and to are required (RFC 3339)")
	}
	if !from.Before(to) {
		return apilens.Errorf(apilens.EINVALID, "from (%s) must be before to (%s)", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return nil
}

// GroupDims are the dimensions each groupable name groups by.
var GroupDims = map[string][]string{
	apilens.DimAPI:          {apilens.DimAPI},
	apilens.DimApplication:  {apilens.DimApplication, apilens.DimApplicationOwner},
	apilens.DimUser:         {apilens.DimUser},
	apilens.DimResource:     {apilens.DimAPI, apilens.DimResource, apilens.DimMethod},
	apilens.DimDestination:  {apilens.DimDestination},
	apilens.DimCountry:      {apilens.DimCountry},
	apilens.DimCity:         {apilens.DimCountry, apilens.DimCity},
	apilens.DimBrowser:      {apilens.DimBrowser},
	apilens.DimOS:           {apilens.DimOS},
	apilens.DimDevice:       {apilens.DimDevice},
	apilens.DimTenant:       {apilens.DimTenant},
	apilens.DimAPIVersion:   {apilens.DimAPI, apilens.DimAPIVersion},
	apilens.DimErrorType:    {apilens.DimErrorType},
	apilens.DimErrorMessage: {apilens.DimErrorType, apilens.DimErrorMessage},
}

// labelCountryName is the label beside a country code that names it.
const labelCountryName = "countryName"

// Item is one group of a top-N answer or a series of a time series.
type Item struct {
	Key    string            `json:"key"`
	Labels map[string]string `json:"labels"`
	Figures
}

// TopList is the answer of a top-N query: the groups and the range they
// cover (edges widen to whole buckets where finer rows are not kept).
type TopList struct {
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Items []Item    `json:"items"`
}

// Ranks are the measures that top-N answers and time series rank their
// groups by: requests unless the question is "most throttled" or "most
// faulty".
var Ranks = map[string]func(*apilens.Measures) int64{
	"requests":   func(m *apilens.Measures) int64 { return m.Requests },
	"successful": func(m *apilens.Measures) int64 { return m.Successful },
	"faults":     func(m *apilens.Measures) int64 { return m.Faults },
	"throttled":  func(m *apilens.Measures) int64 { return m.Throttled },
	"errors4xx":  func(m *apilens.Measures) int64 { return m.Status4xx },
	"errors5xx":  func(m *apilens.Measures) int64 { return m.Status5xx },
}

func rankBy(name string) (func(*apilens.Measures) int64, error) {
	if name == "" {
		name = "requests"
	}
	f, ok := Ranks[name]
	if !ok {
		names := make([]string, 0, len(Ranks))
		for n := range Ranks {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, apilens.Errorf(apilens.EINVALID, "unknown rank %q (want one of %s)", name, strings.Join(names, ", "))
	}
	return f, nil
}

// Top returns the groups of dimension with the most of rank ("" =
// requests) in [from, to).
func (s *Service) Top(ctx context.Context, dimension string, from, to time.Time, filter Filter, rank string, limit int) (*TopList, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	rankOf, err := rankBy(rank)
	if err != nil {
		return nil, err
	}
	dims, ok := GroupDims[dimension]
	if !ok {
		return nil, apilens.Errorf(apilens.EINVALID, "unknown dimension %q (want one of %s)", dimension, groupNames())
	}
	sel, err := selectFamily(filter, dims, true)
	if err != nil {
		return nil, err
	}
	latency := sel.family.Spec().Latency
	pos := positions(sel.family, dims)
	groups := map[[apilens.MaxDims]string]*acc{}
	spans, covered := plan(sel.family, from, to, s.now(), s.retention)
	for _, sp := range spans {
		err := s.scan(ctx, sel, sp.gran, sp.from, sp.to, func(r *apilens.RollupRow) error {
			k := groupKey(r, pos)
			a := groups[k]
			if a == nil {
				a = &acc{}
				groups[k] = a
			}
			return a.add(r)
		})
		if err != nil {
			return nil, err
		}
	}
	type ranked struct {
		item Item
		v    int64
	}
	all := make([]ranked, 0, len(groups))
	for k, a := range groups {
		all = append(all, ranked{item(k, dims, a.figures(latency)), rankOf(&a.m)})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].v != all[j].v {
			return all[i].v > all[j].v
		}
		return all[i].item.Key < all[j].item.Key
	})
	if limit > 0 && len(all) > limit {
		all = all[:limit]
	}
	items := make([]Item, len(all))
	for i := range all {
		items[i] = all[i].item
	}
	return &TopList{From: covered[0], To: covered[1], Items: items}, nil
}

func groupNames() string {
	names := make([]string, 0, len(GroupDims))
	for n := range GroupDims {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func positions(f apilens.Family, dims []string) []int {
	pos := make([]int, len(dims))
	for i, d := range dims {
		pos[i] = f.DimIndex(d)
	}
	return pos
}

func groupKey(r *apilens.RollupRow, pos []int) [apilens.MaxDims]string {
	var k [apilens.MaxDims]string
	for i, p := range pos {
		k[i] = r.Dims[p]
	}
	return k
}

func item(k [apilens.MaxDims]string, dims []string, f Figures) Item {
	it := Item{Labels: map[string]string{}, Figures: f}
	parts := make([]string, len(dims))
	for i, d := range dims {
		it.Labels[d] = k[i]
		parts[i] = k[i]
	}
	it.Key = strings.Join(parts, " ")
	if c, ok := it.Labels[apilens.DimCountry]; ok {
		it.Labels[labelCountryName] = countryName(c)
	}
	return it
}

// Point is one bucket of a time series.
type Point struct {
	Time time.Time `json:"t"`
	Figures
}

// Series is one line of a time series.
type Series struct {
	Key    string            `json:"key"`
	Labels map[string]string `json:"labels,omitempty"`
	Points []Point           `json:"points"`
}

// Timeseries is the answer of a time-series query.
type Timeseries struct {
	Granularity string    `json:"granularity"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	Series      []Series  `json:"series"`
}

// Timeseries returns buckets of granularity g (0 = auto) over [from, to),
// one series per group of groupBy ("" = one series "all"), the limit groups
// with the most of rank ("" = requests).
func (s *Service) Timeseries(ctx context.Context, from, to time.Time, g apilens.Granularity, groupBy string, filter Filter, rank string, limit int) (*Timeseries, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	rankOf, err := rankBy(rank)
	if err != nil {
		return nil, err
	}
	var dims []string
	if groupBy != "" {
		var ok bool
		if dims, ok = GroupDims[groupBy]; !ok {
			return nil, apilens.Errorf(apilens.EINVALID, "unknown groupBy %q (want one of %s)", groupBy, groupNames())
		}
	}
	sel, err := selectFamily(filter, dims, true)
	if err != nil {
		return nil, err
	}
	if g == 0 {
		g = autoGranularity(sel.family, from, to, s.now(), s.retention)
	}
	if finest := sel.family.Spec().Finest; g < finest {
		return nil, apilens.Errorf(apilens.EINVALID, "this breakdown is kept at %s granularity at the finest", finest)
	}
	start := g.Truncate(from)
	if n := points(g, start, to); n > maxPoints {
		return nil, apilens.Errorf(apilens.EINVALID, "%s granularity gives more than %d points over this range; choose a coarser one", g, maxPoints)
	}
	latency := sel.family.Spec().Latency
	pos := positions(sel.family, dims)
	type cell struct {
		group  [apilens.MaxDims]string
		bucket int64
	}
	cells := map[cell]*acc{}
	totals := map[[apilens.MaxDims]string]int64{}
	end := to
	for b := start; b.Before(to); b = g.Next(b) {
		end = g.Next(b)
	}
	err = s.scan(ctx, sel, g, start, end, func(r *apilens.RollupRow) error {
		c := cell{groupKey(r, pos), r.Bucket}
		a := cells[c]
		if a == nil {
			a = &acc{}
			cells[c] = a
		}
		totals[c.group] += rankOf(&r.Measures)
		return a.add(r)
	})
	if err != nil {
		return nil, err
	}
	groups := make([][apilens.MaxDims]string, 0, len(totals))
	for k := range totals {
		groups = append(groups, k)
	}
	sort.Slice(groups, func(i, j int) bool {
		if totals[groups[i]] != totals[groups[j]] {
			return totals[groups[i]] > totals[groups[j]]
		}
		return strings.Join(groups[i][:], "\x00") < strings.Join(groups[j][:], "\x00")
	})
	if groupBy == "" && len(groups) == 0 {
		groups = append(groups, [apilens.MaxDims]string{})
	}
	if limit > 0 && len(groups) > limit {
		groups = groups[:limit]
	}
	ts := &Timeseries{Granularity: g.String(), From: start, To: end, Series: []Series{}}
	for _, k := range groups {
		ser := Series{Key: "all"}
		if groupBy != "" {
			it := item(k, dims, Figures{})
			ser.Key, ser.Labels = it.Key, it.Labels
		}
		for b := start; b.Before(to); b = g.Next(b) {
			p := Point{Time: b}
			if a := cells[cell{k, b.Unix()}]; a != nil {
				p.Figures = a.figures(latency)
			} else {
				p.Figures = (&acc{}).figures(latency)
			}
			ser.Points = append(ser.Points, p)
		}
		ts.Series = append(ts.Series, ser)
	}
	return ts, nil
}
