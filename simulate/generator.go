// Package simulate generates realistic, deterministic API-gateway traffic
// in the WSO2 API-M 4.x analytics event format and publishes it to an
// apilens receiver.
//
// A Generator models a platform: tenants, APIs with versions, resources
// and backends, applications subscribed to them, and the people, devices
// and addresses behind the calls. Traffic follows Zipf-like popularity,
// long-tailed latencies, a realistic mix of faults, and episodes that a
// dashboard should make visible: an application hammering an API until it
// is throttled, and a backend that degrades for a while. Run posts the
// events to POST /api/v1/events in batches, with retries that never lose
// or double a batch.
package simulate

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/apilens/apilens"
)

// Options describe the simulated platform and its traffic. Zero values
// mean the defaults.
type Options struct {
	// Seed selects the traffic: the same seed, options and timestamps give
	// the same events. The platform itself (APIs, applications, people)
	// depends only on the sizes below, so runs with different seeds describe
	// the same platform.
	Seed uint64
	// APIs is the number of APIs (each with 1–3 versions); default 30.
	APIs int
	// Applications is the number of subscribed applications; default 200.
	Applications int
	// Tenants is the number of tenants, carbon.super included; default 3.
	Tenants int
}

func (o Options) withDefaults() Options {
	if o.APIs <= 0 {
		o.APIs = 30
	}
	if o.Applications <= 0 {
		o.Applications = 200
	}
	if o.Tenants <= 0 {
		o.Tenants = 3
	}
	return o
}

// Generator produces the events of a simulated platform. It is not safe
// for concurrent use.
type Generator struct {
	p      *platform
	r      *rand.Rand
	seed   uint64
	bursts episodes[burst]
	faults episodes[trouble]
	botIPs []string
}

// NewGenerator returns a Generator for o.
func NewGenerator(o Options) *Generator {
	o = o.withDefaults()
	p := newPlatform(o.Tenants, o.APIs, o.Applications)
	g := &Generator{
		p:    p,
		r:    rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)),
		seed: o.Seed,
	}
	r := entityRand(streamTenant, 0)
	for _, b := range botBlocks {
		g.botIPs = append(g.botIPs, randomIn(r, b))
	}
	g.bursts = episodes[burst]{slot: 600, start: 50, maxLen: 3, newEpisode: g.newBurst}
	g.faults = episodes[trouble]{slot: 900, start: 30, maxLen: 4, newEpisode: g.newTrouble}
	return g
}

// botBlocks are where the crawlers of botUAs come from, in the same order.
var botBlocks = []string{"66.249.64.0/19", "157.55.39.0/24", "20.171.206.0/24", "54.36.148.0/23"}

// Shares of the traffic, outside episodes.
const (
	pAuth     = 0.03   // AUTH faults
	pThrottle = 0.006  // THROTTLED faults
	pTarget   = 0.0025 // TARGET_CONNECTIVITY faults
	pOther    = 0.008  // OTHER faults
	p4xx      = 0.05   // 4xx answers of the backend
	p5xx      = 0.007  // 5xx answers of the backend
	pXFF      = 0.08   // calls through a load balancer that sets X-Forwarded-For
	pCacheHit = 0.25   // of successful GETs on an API with response caching

	// burstShare is the share of all calls that come from the hammering
	// application during a throttling burst, and burstThrottled the share
	// of those that are throttled.
	burstShare     = 0.12
	burstThrottled = 0.8
)

// Next fills e, reusing it, with the event of a call made at ts. The
// timestamp is kept in UTC with millisecond precision, as it travels.
func (g *Generator) Next(e *apilens.Event, ts time.Time) {
	r := g.r
	ts = ts.UTC().Truncate(time.Millisecond)
	*e = apilens.Event{RequestTimestamp: ts, GatewayType: "SYNAPSE", EventType: apilens.EventResponse, KeyType: "PRODUCTION"}

	b := g.bursts.at(g.seed, ts)
	var app *application
	var api *apiVersion
	slot := 0
	hammer := b != nil && r.Float64() < burstShare
	if hammer {
		app, api = b.app, b.api
	} else {
		app = g.p.apps[g.p.appPick.pick(r)]
		api = app.subs[app.subPick.pick(r)]
		slot = app.userPick.pick(r)
	}
	res := &api.resources[api.resPick.pick(r)]
	pe := &g.p.people[app.users[slot]]

	e.CorrelationID = g.uuid()
	e.APIID = api.id
	e.APIType = api.apiType
	e.APIName = api.name
	e.APIVersion = api.version
	e.APICreator = api.creator
	e.APICreatorTenantDomain = api.tenant.domain
	e.APIMethod = res.method
	e.APIContext = api.context
	e.APIResourceTemplate = res.template
	e.Destination = api.destination
	e.ApplicationID = app.id
	e.ApplicationName = app.name
	e.ApplicationOwner = app.owner
	e.RegionID = pe.region
	e.UserName = pe.userName
	g.client(e, app, pe, slot, res.public)
	if r.Float64() < pXFF {
		e.Properties = forwardedFor(e.UserIP)
		e.UserIP = g.p.lbIPs[r.IntN(len(g.p.lbIPs))]
	}

	t := g.faults.at(g.seed, ts)
	troubled := t != nil && t.api == api
	switch u := r.Float64(); {
	case hammer && r.Float64() < burstThrottled:
		g.fault(e, b.code, false)
	case troubled && u < t.severity:
		if r.Float64() < 0.55 {
			g.fault(e, pickFault(r, targetFaults), false)
		} else {
			g.respond(e, api, res, pickCode(r, troubleCodes), t.slow)
		}
	case res.public: // no token, so no auth or throttling faults
		g.respond(e, api, res, successCode(r, res.method), 1)
	case u < pAuth:
		f := pickFault(r, authFaults)
		g.fault(e, f, f.msg == "AUTHENTICATION_FAILURE")
	case u < pAuth+pThrottle:
		list := throttleFaults
		if api.apiType == "GRAPHQL" && r.Float64() < 0.3 {
			list = graphQLFaults
		}
		g.fault(e, pickFault(r, list), false)
	case u < pAuth+pThrottle+pTarget:
		g.fault(e, pickFault(r, targetFaults), false)
	case u < pAuth+pThrottle+pTarget+pOther:
		f := pickFault(r, otherFaults)
		g.fault(e, f, f.msg != "MEDIATION_ERROR")
		if f.msg == "MEDIATION_ERROR" {
			e.TargetResponseCode = 200
		}
	case u < pAuth+pThrottle+pTarget+pOther+p4xx:
		g.respond(e, api, res, clientErrorCode(r, res.method), 1)
	case u < pAuth+pThrottle+pTarget+pOther+p4xx+p5xx:
		g.respond(e, api, res, pickCode(r, serverErrorCodes), 1)
	default:
		slow := 1.0
		if troubled {
			slow = t.slow
		}
		g.respond(e, api, res, successCode(r, res.method), slow)
	}
}

// client fills who called: user, address, user agent and key type.
func (g *Generator) client(e *apilens.Event, app *application, pe *person, slot int, public bool) {
	r := g.r
	if public {
		e.KeyType = ""
		e.UserName = ""
		e.ApplicationID, e.ApplicationName, e.ApplicationOwner = apilens.Unknown, apilens.Unknown, apilens.Unknown
		if r.Float64() < 0.3 {
			i := r.IntN(len(botUAs))
			e.UserAgentHeader, e.UserIP = botUAs[i], g.botIPs[i]
			return
		}
		e.UserAgentHeader, e.UserIP = pe.desktopUA, pe.ips[0]
		return
	}
	if r.Float64() < app.sandbox { // a developer trying the sandbox keys
		owner := &g.p.people[app.ownerPerson]
		e.KeyType = "SANDBOX"
		e.UserName = owner.userName
		e.UserAgentHeader = devToolUAs[r.IntN(len(devToolUAs))]
		e.UserIP = owner.ips[0]
		e.RegionID = owner.region
		return
	}
	onMobile := r.Float64() < 0.6
	switch app.kind {
	case kindServer, kindPartner:
		e.UserAgentHeader = app.uas[r.IntN(len(app.uas))]
		e.UserIP = app.ips[r.IntN(len(app.ips))]
		return
	case kindInternal:
		e.UserAgentHeader, e.UserIP = pe.desktopUA, app.ips[slot]
		return
	case kindWeb:
		e.UserAgentHeader = pe.desktopUA
		if onMobile && r.Float64() < 0.6 {
			e.UserAgentHeader = pe.mobileUA
		} else {
			onMobile = false
		}
	case kindAndroid:
		switch {
		case len(app.uas) > 0:
			e.UserAgentHeader = app.uas[0]
		case pe.nativeUA != "":
			e.UserAgentHeader = pe.nativeUA
		default:
			e.UserAgentHeader = dalvikUAs[slot%len(dalvikUAs)]
		}
	case kindIOS:
		e.UserAgentHeader = app.uas[slot%len(app.uas)]
	}
	e.UserIP = pe.ips[0]
	if onMobile {
		e.UserIP = pe.ips[1]
	}
}

// respond makes e a response event with the given status.
func (g *Generator) respond(e *apilens.Event, api *apiVersion, res *resource, code int, slow float64) {
	r := g.r
	e.ProxyResponseCode, e.TargetResponseCode = code, code
	if code == 200 && api.cacheable && (res.method == "GET" || res.method == "QUERY") && r.Float64() < pCacheHit {
		e.ResponseCacheHit = true
		e.RequestMediationLatency = int64(math.Exp(0.3 + 0.5*r.NormFloat64()))
		e.ResponseMediationLatency = int64(math.Exp(0.5 * r.NormFloat64()))
		e.ResponseLatency = e.RequestMediationLatency + e.ResponseMediationLatency + 1 + int64(r.IntN(2))
		return
	}
	mult := slow
	switch {
	case code == 504:
		mult = 0
	case code == 502 || code == 503 || code == 304:
		mult *= 0.2
	case code >= 400:
		mult *= 0.4
	}
	backend := api.latMedian * res.latMul * math.Exp(0.55*r.NormFloat64()) * mult
	if r.Float64() < 0.01 { // slow outliers: cold caches, lock waits, GC pauses
		backend *= 4 + 20*r.Float64()
	}
	if code == 504 { // the backend's own proxy gave up
		backend = 30000 + 30000*r.Float64()
	}
	backend = min(backend, 120000)
	e.BackendLatency = max(1, int64(backend))
	e.RequestMediationLatency = int64(math.Exp(0.4 + 0.6*r.NormFloat64()))
	e.ResponseMediationLatency = int64(math.Exp(0.6 * r.NormFloat64()))
	e.ResponseLatency = e.BackendLatency + e.RequestMediationLatency + e.ResponseMediationLatency + int64(r.IntN(3))
}

// fault makes e a fault event. A fault event carries only the fields of
// the 4.x fault format; unauthenticated calls have no known application.
func (g *Generator) fault(e *apilens.Event, f faultCode, anonymous bool) {
	e.EventType = apilens.EventFault
	e.ErrorType, e.ErrorCode, e.ErrorMessage = f.typ, f.code, f.msg
	e.ProxyResponseCode, e.TargetResponseCode = f.status, 0
	e.APIMethod, e.APIContext, e.APIResourceTemplate, e.Destination = "", "", "", ""
	e.UserName, e.UserIP, e.UserAgentHeader = "", "", ""
	e.ResponseCacheHit = false
	e.ResponseLatency, e.BackendLatency, e.RequestMediationLatency, e.ResponseMediationLatency = 0, 0, 0, 0
	if anonymous {
		e.KeyType = apilens.Unknown
		e.ApplicationID, e.ApplicationName, e.ApplicationOwner = apilens.Unknown, apilens.Unknown, apilens.Unknown
	}
}

func (g *Generator) uuid() string {
	var b [36]byte
	formatUUID(&b, g.r.Uint64(), g.r.Uint64())
	return string(b[:])
}

// forwardedFor returns the properties a gateway behind a load balancer
// passes: the client's address in X-Forwarded-For.
func forwardedFor(ip string) []byte {
	const pre, post = `{"X-Forwarded-For":"`, `"}`
	b := make([]byte, 0, len(pre)+len(ip)+len(post))
	return append(append(append(b, pre...), ip...), post...)
}

func successCode(r *rand.Rand, method string) int {
	switch method {
	case "GET":
		switch u := r.Float64(); {
		case u < 0.04:
			return 304
		case u < 0.043:
			return 302
		}
	case "POST":
		if r.Float64() < 0.7 {
			return 201
		}
	case "DELETE":
		if r.Float64() < 0.7 {
			return 204
		}
	}
	return 200
}

func clientErrorCode(r *rand.Rand, method string) int {
	u := r.Float64()
	switch method {
	case "GET", "QUERY", "SUBSCRIBE":
		if u < 0.6 {
			return 404
		}
		return 400
	case "POST", "MUTATION", "PUBLISH":
		switch {
		case u < 0.5:
			return 400
		case u < 0.8:
			return 409
		}
		return 422
	case "DELETE":
		if u < 0.7 {
			return 404
		}
		return 409
	}
	switch {
	case u < 0.4:
		return 400
	case u < 0.7:
		return 404
	}
	return 409
}

type weightedCode struct {
	code   int
	weight float64
}

var (
	serverErrorCodes = []weightedCode{{500, 60}, {502, 15}, {503, 15}, {504, 10}}
	troubleCodes     = []weightedCode{{502, 35}, {503, 35}, {504, 30}}
)

func pickCode(r *rand.Rand, list []weightedCode) int {
	total := 0.0
	for _, c := range list {
		total += c.weight
	}
	x := r.Float64() * total
	for _, c := range list {
		if x < c.weight {
			return c.code
		}
		x -= c.weight
	}
	return list[len(list)-1].code
}

// faultCode is a gateway fault: category, code, sub-category and the
// status the client got.
type faultCode struct {
	typ    string
	code   int
	msg    string
	status int
	weight float64
}

// The fault codes of API-M 4.x, by category, with how often each occurs
// within its category. The sub-categories follow the gateway's
// FaultCodeClassifier.
var (
	authFaults = []faultCode{
		{apilens.FaultAuth, 900901, "AUTHENTICATION_FAILURE", 401, 40}, // invalid credentials
		{apilens.FaultAuth, 900902, "AUTHENTICATION_FAILURE", 401, 15}, // missing credentials
		{apilens.FaultAuth, 900903, "AUTHENTICATION_FAILURE", 401, 20}, // access token expired
		{apilens.FaultAuth, 900904, "AUTHENTICATION_FAILURE", 401, 3},  // access token inactive
		{apilens.FaultAuth, 900900, "AUTHENTICATION_FAILURE", 401, 1},  // unclassified
		{apilens.FaultAuth, 900910, "AUTHORIZATION_FAILURE", 403, 6},   // scope not allowed
		{apilens.FaultAuth, 900905, "AUTHORIZATION_FAILURE", 401, 1},   // incorrect access token type
		{apilens.FaultAuth, 900908, "SUBSCRIPTION_VALIDATION_FAILURE", 403, 9},
		{apilens.FaultAuth, 900909, "SUBSCRIPTION_VALIDATION_FAILURE", 403, 3}, // subscription inactive
		{apilens.FaultAuth, 900907, "SUBSCRIPTION_VALIDATION_FAILURE", 503, 1}, // API blocked
	}
	throttleFaults = []faultCode{
		{apilens.FaultThrottled, 900800, "API_LEVEL_LIMIT_EXCEEDED", 429, 10},
		{apilens.FaultThrottled, 900801, "HARD_LIMIT_EXCEEDED", 429, 3},
		{apilens.FaultThrottled, 900802, "RESOURCE_LEVEL_LIMIT_EXCEEDED", 429, 8},
		{apilens.FaultThrottled, 900803, "APPLICATION_LEVEL_LIMIT_EXCEEDED", 429, 30},
		{apilens.FaultThrottled, 900804, "SUBSCRIPTION_LIMIT_EXCEEDED", 429, 30},
		{apilens.FaultThrottled, 900805, "BLOCKED", 403, 2},
		{apilens.FaultThrottled, 900806, "CUSTOM_POLICY_LIMIT_EXCEEDED", 429, 4},
		{apilens.FaultThrottled, 900807, "BURST_CONTROL_LIMIT_EXCEEDED", 429, 10},
	}
	graphQLFaults = []faultCode{
		{apilens.FaultThrottled, 900820, "QUERY_TOO_DEEP", 400, 1},
		{apilens.FaultThrottled, 900821, "QUERY_TOO_COMPLEX", 400, 1},
	}
	targetFaults = []faultCode{
		{apilens.FaultTargetConnectivity, 101504, "CONNECTION_TIMEOUT", 504, 45},
		{apilens.FaultTargetConnectivity, 101508, "CONNECTION_TIMEOUT", 504, 10},
		{apilens.FaultTargetConnectivity, 303001, "CONNECTION_SUSPENDED", 503, 25},
		{apilens.FaultTargetConnectivity, 101503, "CONNECTION_SUSPENDED", 503, 20},
	}
	otherFaults = []faultCode{
		{apilens.FaultOther, 404, "RESOURCE_NOT_FOUND", 404, 60},
		{apilens.FaultOther, 405, "METHOD_NOT_ALLOWED", 405, 25},
		{apilens.FaultOther, 500, "MEDIATION_ERROR", 500, 15},
	}
	// burstFaults are the limits a hammering application runs into.
	burstFaults = []faultCode{throttleFaults[3], throttleFaults[4], throttleFaults[7], throttleFaults[0]}
)

func pickFault(r *rand.Rand, list []faultCode) faultCode {
	return list[faultAt(list, r.Float64())]
}

func faultAt(list []faultCode, u float64) int {
	total := 0.0
	for _, f := range list {
		total += f.weight
	}
	x := u * total
	for i, f := range list {
		if x < f.weight {
			return i
		}
		x -= f.weight
	}
	return len(list) - 1
}

// burst is a throttling episode: one application hammers one API until
// the gateway throttles it out.
type burst struct {
	app  *application
	api  *apiVersion
	code faultCode
}

// trouble is a backend episode: one API version's destination fails a
// share of its calls and answers the rest slowly.
type trouble struct {
	api      *apiVersion
	severity float64
	slow     float64
}

func (g *Generator) newBurst(h uint64) burst {
	r := rand.New(rand.NewPCG(h, 1))
	app := g.p.apps[g.p.appPick.pick(r)]
	return burst{
		app:  app,
		api:  app.subs[app.subPick.pick(r)],
		code: burstFaults[faultAt(burstFaults, r.Float64())],
	}
}

func (g *Generator) newTrouble(h uint64) trouble {
	r := rand.New(rand.NewPCG(h, 2))
	return trouble{
		api:      g.p.apis[g.p.apiPick.pick(r)],
		severity: 0.15 + 0.5*r.Float64(),
		slow:     2 + 6*r.Float64(),
	}
}

// episodes decides, from the seed and the time alone, which episodes are
// under way at an instant: time is cut into slots, an episode starts in a
// slot with probability start/1000 and lasts 1 to maxLen slots. Being a
// function of time rather than of the event sequence, episodes look the
// same in live traffic and in backfilled history.
type episodes[T any] struct {
	slot          int64 // seconds
	start, maxLen uint64
	newEpisode    func(h uint64) T

	cached  bool
	at0     int64 // cached slot
	current *T
	value   T
}

// at returns the episode under way at ts, or nil.
func (ep *episodes[T]) at(seed uint64, ts time.Time) *T {
	s := ts.Unix()
	slot := s / ep.slot
	if s < 0 && s%ep.slot != 0 {
		slot--
	}
	if ep.cached && slot == ep.at0 {
		return ep.current
	}
	ep.cached, ep.at0, ep.current = true, slot, nil
	for k := uint64(0); k < ep.maxLen; k++ {
		h := mix(seed ^ uint64(ep.slot)<<48 ^ uint64(slot-int64(k)))
		if h%1000 < ep.start && (h>>32)%ep.maxLen >= k {
			ep.value = ep.newEpisode(h)
			ep.current = &ep.value
			break
		}
	}
	return ep.current
}

// mix is the splitmix64 finalizer.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
