package publisher

import (
	"fmt"
	"strconv"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/databridge"
)

// StreamVersion is the version of the statistics streams the binary and
// Thrift transports publish: API-M 3.2's, whose definitions carry every
// attribute the 4.x event has a place for.
const StreamVersion = "3.2.0"

// clientType is the meta attribute of every statistics event.
const clientType = "apilens"

// streams are the definitions events are converted with, and the
// attribute getters of each.
type streams struct {
	request, fault, throttle *streamPlan
}

// streamPlan is how an apilens event fills one stream's attributes: one
// getter per payload attribute, in definition order.
type streamPlan struct {
	def  *databridge.StreamDef
	id   string
	gets []func(e *apilens.Event) any
}

// newStreams looks the 3.2.0 statistics streams up among the data-bridge's
// built-in definitions, so publisher and receiver cannot disagree on the
// attribute order.
func newStreams() (*streams, error) {
	defs := map[string]*databridge.StreamDef{}
	for _, d := range databridge.Builtin() {
		defs[d.ID()] = d
	}
	plan := func(name string, getters map[string]func(*apilens.Event) any) (*streamPlan, error) {
		d := defs[name+":"+StreamVersion]
		if d == nil {
			return nil, fmt.Errorf("no built-in definition of %s:%s", name, StreamVersion)
		}
		p := &streamPlan{def: d, id: d.ID(), gets: make([]func(*apilens.Event) any, len(d.Payload))}
		for i, a := range d.Payload {
			g := getters[a.Name]
			if g == nil {
				// An attribute the 4.x event has nothing for: its zero
				// value, never a null, which would misalign a LONG, DOUBLE
				// or BOOL on the real receiver (REFERENCE §1).
				z := zero(a.Type)
				g = func(*apilens.Event) any { return z }
			}
			p.gets[i] = g
		}
		return p, nil
	}
	var s streams
	var err error
	if s.request, err = plan(databridge.StreamRequest, requestGetters); err != nil {
		return nil, err
	}
	if s.fault, err = plan(databridge.StreamFault, faultGetters); err != nil {
		return nil, err
	}
	if s.throttle, err = plan(databridge.StreamThrottle, throttleGetters); err != nil {
		return nil, err
	}
	return &s, nil
}

func zero(t databridge.AttrType) any {
	switch t {
	case databridge.INT:
		return int32(0)
	case databridge.LONG:
		return int64(0)
	case databridge.FLOAT:
		return float32(0)
	case databridge.DOUBLE:
		return float64(0)
	case databridge.BOOL:
		return false
	}
	return ""
}

// convert turns a 4.x event into the 3.x statistics event a 3.2 gateway
// would have published for the same call: the inverse of
// databridge.Convert. A response becomes a request event, a THROTTLED
// fault a throttle event, any other fault a fault event whose errorCode
// the receiver classifies again. The 4.x fields that no 3.x stream has
// (correlationId, keyType, apiId, apiType, regionId, targetResponseCode)
// do not travel, as they never did from a 3.x gateway.
func (s *streams) convert(e *apilens.Event, out *databridge.Event) {
	p := s.request
	if e.EventType == apilens.EventFault {
		p = s.fault
		if e.ErrorType == apilens.FaultThrottled {
			p = s.throttle
		}
	}
	out.StreamID = p.id
	out.Timestamp = e.RequestTimestamp.UnixMilli()
	out.Meta = append(out.Meta[:0], clientType)
	out.Correlation = out.Correlation[:0]
	out.Payload = out.Payload[:0]
	for _, g := range p.gets {
		out.Payload = append(out.Payload, g(e))
	}
	out.Arbitrary = nil
}

// Lookup returns the definition of a stream id the converter produces:
// streams is the databridge.StreamLookup of its own events.
func (s *streams) Lookup(id string) *databridge.StreamDef {
	for _, p := range []*streamPlan{s.request, s.fault, s.throttle} {
		if p.id == id {
			return p.def
		}
	}
	return nil
}

func str(f func(e *apilens.Event) string) func(*apilens.Event) any {
	return func(e *apilens.Event) any { return f(e) }
}

func long(f func(e *apilens.Event) int64) func(*apilens.Event) any {
	return func(e *apilens.Event) any { return f(e) }
}

// The getters shared by the three streams.
var (
	getAppName    = str(func(e *apilens.Event) string { return e.ApplicationName })
	getAppID      = str(func(e *apilens.Event) string { return e.ApplicationID })
	getAppOwner   = str(func(e *apilens.Event) string { return e.ApplicationOwner })
	getContext    = str(func(e *apilens.Event) string { return e.APIContext })
	getAPIName    = str(func(e *apilens.Event) string { return e.APIName })
	getAPIVersion = str(func(e *apilens.Event) string { return e.APIVersion })
	getTemplate   = str(func(e *apilens.Event) string { return e.APIResourceTemplate })
	getMethod     = str(func(e *apilens.Event) string { return e.APIMethod })
	getCreator    = str(func(e *apilens.Event) string { return e.APICreator })
	getTenant     = str(func(e *apilens.Event) string { return e.APICreatorTenantDomain })
	getUser       = str(func(e *apilens.Event) string { return e.UserName })
	getGateway    = str(func(e *apilens.Event) string { return e.GatewayType })
	getTime       = long(func(e *apilens.Event) int64 { return e.RequestTimestamp.UnixMilli() })
	getProperties = str(func(e *apilens.Event) string { return string(e.Properties) })
)

var requestGetters = map[string]func(*apilens.Event) any{
	"applicationName": getAppName, "applicationId": getAppID, "applicationOwner": getAppOwner,
	"apiContext": getContext, "apiName": getAPIName, "apiVersion": getAPIVersion,
	// 3.x has the path called and the template matched; 4.x keeps the template.
	"apiResourcePath": getTemplate, "apiResourceTemplate": getTemplate,
	"apiMethod": getMethod, "apiCreator": getCreator, "apiCreatorTenantDomain": getTenant,
	"username":         getUser,
	"userIp":           str(func(e *apilens.Event) string { return e.UserIP }),
	"userAgent":        str(func(e *apilens.Event) string { return e.UserAgentHeader }),
	"requestTimestamp": getTime,
	"responseTime":     long(func(e *apilens.Event) int64 { return e.ResponseLatency }),
	// serviceTime is the gateway's own share: the two mediation latencies.
	"serviceTime":      long(func(e *apilens.Event) int64 { return e.RequestMediationLatency + e.ResponseMediationLatency }),
	"backendTime":      long(func(e *apilens.Event) int64 { return e.BackendLatency }),
	"backendLatency":   long(func(e *apilens.Event) int64 { return e.BackendLatency }),
	"responseCacheHit": func(e *apilens.Event) any { return e.ResponseCacheHit },
	"responseCode":     func(e *apilens.Event) any { return int32(e.ProxyResponseCode) },
	"destination":      str(func(e *apilens.Event) string { return e.Destination }),
	"requestMedLat":    long(func(e *apilens.Event) int64 { return e.RequestMediationLatency }),
	"responseMedLat":   long(func(e *apilens.Event) int64 { return e.ResponseMediationLatency }),
	"gatewayType":      getGateway, "properties": getProperties,
}

var faultGetters = map[string]func(*apilens.Event) any{
	"apiName": getAPIName, "apiVersion": getAPIVersion, "apiContext": getContext,
	"apiResourcePath": getTemplate, "apiResourceTemplate": getTemplate, "apiMethod": getMethod,
	"apiCreator": getCreator, "username": getUser, "apiCreatorTenantDomain": getTenant,
	"applicationId": getAppID, "applicationName": getAppName, "applicationOwner": getAppOwner,
	"errorCode": str(func(e *apilens.Event) string { return strconv.Itoa(e.ErrorCode) }),
	// 4.x's errorMessage is the sub-category; 3.x's a text. The
	// sub-category is the most a reader of either can use.
	"errorMessage":     str(func(e *apilens.Event) string { return e.ErrorMessage }),
	"requestTimestamp": getTime, "properties": getProperties,
}

var throttleGetters = map[string]func(*apilens.Event) any{
	"username": getUser, "apiName": getAPIName, "apiVersion": getAPIVersion, "apiContext": getContext,
	"apiCreator": getCreator, "apiCreatorTenantDomain": getTenant, "apiResourceTemplate": getTemplate,
	"apiMethod": getMethod, "applicationId": getAppID, "applicationName": getAppName,
	"subscriber":            getAppOwner,
	"throttledOutReason":    str(func(e *apilens.Event) string { return throttleReason(e.ErrorMessage) }),
	"gatewayType":           getGateway,
	"throttledOutTimestamp": getTime, "properties": getProperties,
}

// throttleReasons are the 3.x throttledOutReason values (the gateway's
// APIThrottleConstants) of the 4.x THROTTLED sub-categories: the inverse
// of the receiver's table.
var throttleReasons = map[string]string{
	"API_LEVEL_LIMIT_EXCEEDED":         "API_LIMIT_EXCEEDED",
	"HARD_LIMIT_EXCEEDED":              "HARD_LIMIT_EXCEEDED",
	"RESOURCE_LEVEL_LIMIT_EXCEEDED":    "RESOURCE_LIMIT_EXCEEDED",
	"APPLICATION_LEVEL_LIMIT_EXCEEDED": "APPLICATION_LIMIT_EXCEEDED",
	"SUBSCRIPTION_LIMIT_EXCEEDED":      "SUBSCRIPTION_LIMIT_EXCEEDED",
	"BLOCKED":                          "REQUEST_BLOCKED",
	"CUSTOM_POLICY_LIMIT_EXCEEDED":     "CUSTOM_POLICY_LIMIT_EXCEED",
	"BURST_CONTROL_LIMIT_EXCEEDED":     "SUBSCRIPTION_BURST_LIMIT_EXCEEDED",
	"QUERY_TOO_DEEP":                   "QUERY_TOO_DEEP",
	"QUERY_TOO_COMPLEX":                "QUERY_TOO_COMPLEX",
}

// throttleReason is the 3.x reason of a 4.x sub-category; one it does not
// know travels as it is.
func throttleReason(sub string) string {
	if r, ok := throttleReasons[sub]; ok {
		return r
	}
	return sub
}
