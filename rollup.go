package apilens

import (
	"fmt"
	"time"
)

// MaxDims is the most dimensions a rollup family has.
const MaxDims = 7

// Family is a rollup family: a set of dimensions that events are counted by.
// Every family is kept at every granularity. Families are narrow on purpose
// (a cube of small keys rather than one wide key) so that a query touches
// few rows: a year's summary reads ~12 monthly rows of the total family.
type Family uint8

// The rollup families. Their numbers are stored: append, never renumber.
const (
	FamilyTotal Family = iota + 1
	FamilyAPI
	FamilyApplication
	FamilyAPIApplication
	FamilyResource
	FamilyUser
	FamilyDestination
	FamilyFault
	FamilyGeo
	FamilyDevice
)

// Dimension names, as used by the query API (top?dimension=…) and in the
// cardinality caps of the configuration.
const (
	DimTenant           = "tenant"
	DimAPI              = "api"
	DimAPIVersion       = "apiVersion"
	DimAPIContext       = "apiContext"
	DimAPICreator       = "apiCreator"
	DimApplication      = "application"
	DimApplicationOwner = "applicationOwner"
	DimApplicationID    = "applicationId"
	DimResource         = "resource"
	DimMethod           = "method"
	DimUser             = "user"
	DimDestination      = "destination"
	DimErrorType        = "errorType"
	DimErrorMessage     = "errorMessage"
	DimErrorCode        = "errorCode"
	DimCountry          = "country"
	DimCity             = "city"
	DimBrowser          = "browser"
	DimOS               = "os"
	DimDevice           = "device"
)

// FamilySpec describes a family: its dimension names in stored order (the
// first is the one stores index for filtering), whether its rows carry
// latency sketches, and the finest granularity it is kept at. Families of
// many distinct keys start coarser: cities and user agents at hours, users
// at days (an application's users number in the thousands; at minute or
// hour grain nearly every event would be a row of its own).
type FamilySpec struct {
	Family  Family
	Name    string
	Dims    []string
	Latency bool
	Finest  Granularity
	// Backend says whether rows carry a backend-latency sketch besides the
	// response one: only per destination, where backend performance is
	// the question; elsewhere its sum (for averages) is enough.
	Backend bool
	// Coarsest is the coarsest granularity kept; 0 means Year. Users stop
	// at months: a year of them reads twelve month rows, and year rows
	// would be a third of what their flushes write.
	Coarsest Granularity
}

// Families lists every rollup family.
var Families = []FamilySpec{
	{FamilyTotal, "total", []string{DimTenant}, true, Minute, false, 0},
	{FamilyAPI, "api", []string{DimAPI, DimAPIVersion, DimTenant, DimAPIContext, DimAPICreator}, true, Minute, false, 0},
	{FamilyApplication, "application", []string{DimApplication, DimApplicationOwner, DimApplicationID, DimTenant}, true, Minute, false, 0},
	{FamilyAPIApplication, "api_application", []string{DimAPI, DimApplication, DimAPIVersion, DimApplicationOwner, DimApplicationID, DimTenant}, true, Minute, false, 0},
	{FamilyResource, "resource", []string{DimAPI, DimAPIVersion, DimResource, DimMethod, DimTenant}, true, Minute, false, 0},
	{FamilyUser, "user", []string{DimApplication, DimUser, DimTenant}, false, Day, false, Month},
	{FamilyDestination, "destination", []string{DimAPI, DimDestination, DimAPIVersion, DimTenant}, true, Minute, true, 0},
	{FamilyFault, "fault", []string{DimAPI, DimErrorType, DimErrorMessage, DimErrorCode, DimApplication, DimAPIVersion, DimTenant}, false, Minute, false, 0},
	{FamilyGeo, "geo", []string{DimCountry, DimCity, DimAPI, DimTenant}, false, Hour, false, 0},
	{FamilyDevice, "device", []string{DimOS, DimBrowser, DimDevice, DimAPI, DimTenant}, false, Hour, false, 0},
}

// Spec returns the description of f.
func (f Family) Spec() FamilySpec {
	if f < 1 || int(f) > len(Families) {
		panic(fmt.Sprintf("apilens: unknown family %d", f))
	}
	return Families[f-1]
}

func (f Family) String() string { return f.Spec().Name }

// DimIndex returns the position of dimension dim in f, or -1.
func (f Family) DimIndex(dim string) int {
	for i, d := range f.Spec().Dims {
		if d == dim {
			return i
		}
	}
	return -1
}

// Measures are the additive figures of one rollup bucket. Merging two
// buckets adds every field (sketches merge, which is also addition).
type Measures struct {
	Counts
	// ResponseSketch and BackendSketch are encoded DDSketches (package
	// sketch) of responseLatency and backendLatency, nil for families
	// without them (FamilySpec) or buckets without response events.
	ResponseSketch []byte
	BackendSketch  []byte
}

// Counts are the counters and sums of Measures: what an in-memory
// aggregate keeps beside its sketches.
type Counts struct {
	Requests    int64 // every event, response and fault
	Successful  int64 // response events with proxyResponseCode < 400
	Faults      int64 // fault events that are not THROTTLED
	Throttled   int64 // fault events with errorType THROTTLED
	Status2xx   int64 // by proxyResponseCode class, any event type
	Status3xx   int64
	Status4xx   int64
	Status5xx   int64
	FaultAuth   int64 // fault events by errorType
	FaultTarget int64
	FaultOther  int64
	CacheHits   int64
	// Responses counts response events: the sample count of the latency
	// sums and sketches.
	Responses                   int64
	ResponseLatencySum          int64 // ms
	BackendLatencySum           int64
	RequestMediationLatencySum  int64
	ResponseMediationLatencySum int64
}

// AddCounts adds the counters and sums of o to m. Sketches are merged by
// the caller, who knows how to decode them.
func (m *Measures) AddCounts(o *Measures) { m.Counts.Add(&o.Counts) }

// Add adds o to c.
func (c *Counts) Add(o *Counts) {
	c.Requests += o.Requests
	c.Successful += o.Successful
	c.Faults += o.Faults
	c.Throttled += o.Throttled
	c.Status2xx += o.Status2xx
	c.Status3xx += o.Status3xx
	c.Status4xx += o.Status4xx
	c.Status5xx += o.Status5xx
	c.FaultAuth += o.FaultAuth
	c.FaultTarget += o.FaultTarget
	c.FaultOther += o.FaultOther
	c.CacheHits += o.CacheHits
	c.Responses += o.Responses
	c.ResponseLatencySum += o.ResponseLatencySum
	c.BackendLatencySum += o.BackendLatencySum
	c.RequestMediationLatencySum += o.RequestMediationLatencySum
	c.ResponseMediationLatencySum += o.ResponseMediationLatencySum
}

// Keeps reports whether f has rows of granularity g for the bucket starting
// at bucket, at time now, under retention r.
func (f Family) Keeps(g Granularity, bucket, now time.Time, r Retention) bool {
	spec := f.Spec()
	return g >= spec.Finest && (spec.Coarsest == 0 || g <= spec.Coarsest) && r.Keeps(g, bucket, now)
}

// RollupRow is one bucket of one family at one granularity.
type RollupRow struct {
	Family Family
	Gran   Granularity
	Bucket int64 // bucket start, Unix seconds, UTC
	// Dims holds the family's dimension values in FamilySpec order; unused
	// trailing entries are empty.
	Dims [MaxDims]string
	Measures
}
