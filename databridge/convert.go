package databridge

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/apilens/apilens"
)

// Event is one data-bridge event as a transport decodes it: the values of
// its stream's meta, correlation and payload attributes in definition
// order, each an int32, int64, float32, float64, bool or string as the
// attribute's type says, or nil for a null.
type Event struct {
	StreamID    string
	Timestamp   int64 // ms since the epoch, as the sender stamped the event
	Meta        []any
	Correlation []any
	Payload     []any
	Arbitrary   map[string]string
}

// kind is what a stream's events become.
type kind uint8

const (
	kindIgnored  kind = iota // accepted and dropped: no API call in it
	kindRequest              // a response event
	kindFault                // a fault event, by error code
	kindThrottle             // a THROTTLED fault event
	kindLog                  // a log record
)

// field is the apilens field an attribute's value goes to.
type field uint8

const (
	fNone field = iota
	fAppName
	fAppID
	fAppOwner
	fAPIContext
	fAPIName
	fAPIVersion
	fAPIResourceTemplate
	fAPIMethod
	fAPICreator
	fAPICreatorTenant
	fUserName
	fUserIP
	fUserAgent
	fDestination
	fGatewayType
	fProperties
	fTime // the event's time, ms: requestTimestamp, throttledOutTimestamp, eventTimeStamp
	fResponseTime
	fBackendTime
	fRequestMed
	fResponseMed
	fCacheHit
	fResponseCode
	fErrorCode
	fThrottledOutReason
	fLogTenant
	fLogClass
	fLogContent
	fLogLevel
	fLogTrace
	fLogInstance
	fLogIP
)

// The attribute names of each stream kind that apilens keeps. Attributes
// not named here (applicationConsumerKey, apiTier, serviceTime, …) have no
// place in the 4.x event and are skipped. They are matched by name, not
// position, so a client's own version of these streams converts as well.
var kindFields = map[kind]map[string]field{
	kindRequest: {
		"applicationName": fAppName, "applicationId": fAppID, "applicationOwner": fAppOwner,
		"apiContext": fAPIContext, "apiName": fAPIName, "apiVersion": fAPIVersion,
		"apiResourceTemplate": fAPIResourceTemplate, "apiMethod": fAPIMethod, "apiCreator": fAPICreator,
		"apiCreatorTenantDomain": fAPICreatorTenant, "username": fUserName, "userIp": fUserIP,
		"userAgent": fUserAgent, "requestTimestamp": fTime, "responseTime": fResponseTime,
		"backendTime": fBackendTime, "responseCacheHit": fCacheHit, "responseCode": fResponseCode,
		"destination": fDestination, "requestMedLat": fRequestMed, "responseMedLat": fResponseMed,
		"gatewayType": fGatewayType, "properties": fProperties,
	},
	kindFault: {
		"apiName": fAPIName, "apiVersion": fAPIVersion, "apiContext": fAPIContext,
		"apiResourceTemplate": fAPIResourceTemplate, "apiMethod": fAPIMethod, "apiCreator": fAPICreator,
		"username": fUserName, "apiCreatorTenantDomain": fAPICreatorTenant, "applicationId": fAppID,
		"applicationName": fAppName, "applicationOwner": fAppOwner, "errorCode": fErrorCode,
		"requestTimestamp": fTime, "properties": fProperties,
	},
	kindThrottle: {
		"username": fUserName, "apiName": fAPIName, "apiVersion": fAPIVersion, "apiContext": fAPIContext,
		"apiCreator": fAPICreator, "apiCreatorTenantDomain": fAPICreatorTenant,
		"apiResourceTemplate": fAPIResourceTemplate, "apiMethod": fAPIMethod, "applicationId": fAppID,
		"applicationName": fAppName, "throttledOutReason": fThrottledOutReason, "gatewayType": fGatewayType,
		"throttledOutTimestamp": fTime, "properties": fProperties,
	},
	kindLog: {
		"tenantID": fLogTenant, "class": fLogClass, "content": fLogContent, "level": fLogLevel,
		"trace": fLogTrace, "eventTimeStamp": fTime, "instance": fLogInstance, "ip": fLogIP,
	},
}

// plan is how the events of one stream definition convert: the kind, and
// the field of each attribute in wire order.
type plan struct {
	kind   kind
	fields []field
	attrs  []Attribute // the definition's, in wire order
}

func compile(d *StreamDef) *plan {
	attrs := d.wire() // not compiled yet: made here, kept by the plan
	p := &plan{fields: make([]field, len(attrs)), attrs: attrs}
	switch d.Name {
	case StreamRequest:
		p.kind = kindRequest
	case StreamFault:
		p.kind = kindFault
	case StreamThrottle:
		p.kind = kindThrottle
	case StreamLog:
		p.kind = kindLog
	}
	names := kindFields[p.kind]
	for i, a := range attrs {
		p.fields[i] = names[a.Name]
	}
	return p
}

// Converted is what one stream event becomes: an API event, or a log
// record (Log non-nil), or nothing (Ignored) for the streams that carry no
// API call (workflow, bot detection, streams apilens does not know).
type Converted struct {
	Event   apilens.Event
	Log     *apilens.LogRecord
	Ignored bool
}

// Convert turns one event of stream def into what apilens keeps:
//
//   - request → a response event: proxyResponseCode = responseCode,
//     responseLatency = responseTime, backendLatency = backendTime, the
//     mediation latencies from requestMedLat and responseMedLat,
//     userAgentHeader = userAgent; targetResponseCode is unknown (-1), as
//     3.x reports one status. throttledOut=true changes nothing: the
//     gateway reports the throttling on the throttle stream, and counting
//     it here too would count the call twice.
//   - fault → a fault event whose errorType and errorMessage (the 4.x
//     sub-category) follow from errorCode (see classifyFault).
//   - throttle → a THROTTLED fault event, errorMessage from
//     throttledOutReason (see classifyThrottle).
//   - loganalyzer → a log record.
//
// The time is requestTimestamp (throttledOutTimestamp, eventTimeStamp),
// else the event's own timestamp. Null values become UNKNOWN or -1 as
// apilens.Event.Normalize and the JSON receiver make them.
func Convert(def *StreamDef, ev *Event) (*Converted, error) {
	p := def.plan
	if p == nil {
		p = compile(def)
	}
	var c converter
	c.reset(p.kind)
	if err := c.values(def, p, ev); err != nil {
		return nil, err
	}
	out := &Converted{}
	switch p.kind {
	case kindIgnored:
		out.Ignored = true
	case kindLog:
		out.Log = c.finishLog(ev.Timestamp)
	default:
		c.finishEvent(p.kind, ev.Timestamp)
		out.Event = c.ev
		// The values are the caller's; keep none of the converter's scratch.
		out.Event.Properties = append(json.RawMessage(nil), c.ev.Properties...)
	}
	return out, nil
}

// values feeds the values of ev, checked against def, to c.
func (c *converter) values(def *StreamDef, p *plan, ev *Event) error {
	secs := [...]struct {
		name   string
		attrs  []Attribute
		values []any
	}{{"meta", def.Meta, ev.Meta}, {"correlation", def.Correlation, ev.Correlation}, {"payload", def.Payload, ev.Payload}}
	i := 0
	for _, s := range secs {
		if len(s.values) != len(s.attrs) {
			return fmt.Errorf("stream %s: %d %s values, the definition has %d", def.ID(), len(s.values), s.name, len(s.attrs))
		}
		for j, a := range s.attrs {
			f := p.fields[i]
			i++
			v := s.values[j]
			if v == nil {
				continue
			}
			ok := false
			switch a.Type {
			case INT:
				var x int32
				if x, ok = v.(int32); ok {
					c.int(f, int64(x))
				}
			case LONG:
				var x int64
				if x, ok = v.(int64); ok {
					c.int(f, x)
				}
			case FLOAT:
				var x float32
				if x, ok = v.(float32); ok {
					c.int(f, int64(x))
				}
			case DOUBLE:
				var x float64
				if x, ok = v.(float64); ok {
					c.int(f, int64(x))
				}
			case BOOL:
				var x bool
				if x, ok = v.(bool); ok {
					c.bool(f, x)
				}
			case STRING:
				var x string
				if x, ok = v.(string); ok {
					c.str(f, x)
				}
			}
			if !ok {
				return fmt.Errorf("stream %s: %s attribute %q is %s, got a %T", def.ID(), s.name, a.Name, a.Type, v)
			}
		}
	}
	return nil
}

// converter fills an apilens event or log record from one event's values,
// handed to it one at a time in wire order; the binary decoder feeds it
// straight from the frame, so a value costs no allocation. Strings it holds
// may be views of the frame: finishLog clones what it keeps, and an event
// is encoded (copied) before the frame is reused.
type converter struct {
	ev  apilens.Event
	rec apilens.LogRecord

	ms                    int64 // the event's time, -1 when not given
	errorCode             string
	reason                string
	logContent, logTrace  string
	logInstance, logIP    string
	logLevel, logClass    string
	logTenant, properties string
}

func (c *converter) reset(k kind) {
	*c = converter{ms: -1}
	if k != kindLog {
		c.ev = apilens.Event{
			ProxyResponseCode: -1, TargetResponseCode: -1, ErrorCode: -1,
			ResponseLatency: -1, BackendLatency: -1, RequestMediationLatency: -1, ResponseMediationLatency: -1,
		}
	}
}

func (c *converter) str(f field, s string) {
	e := &c.ev
	switch f {
	case fAppName:
		e.ApplicationName = s
	case fAppID:
		e.ApplicationID = s
	case fAppOwner:
		e.ApplicationOwner = s
	case fAPIContext:
		e.APIContext = s
	case fAPIName:
		e.APIName = s
	case fAPIVersion:
		e.APIVersion = s
	case fAPIResourceTemplate:
		e.APIResourceTemplate = s
	case fAPIMethod:
		e.APIMethod = s
	case fAPICreator:
		e.APICreator = s
	case fAPICreatorTenant:
		e.APICreatorTenantDomain = s
	case fUserName:
		e.UserName = s
	case fUserIP:
		e.UserIP = s
	case fUserAgent:
		e.UserAgentHeader = s
	case fDestination:
		e.Destination = s
	case fGatewayType:
		e.GatewayType = s
	case fProperties:
		c.properties = s
	case fErrorCode:
		c.errorCode = s
	case fThrottledOutReason:
		c.reason = s
	case fLogTenant:
		c.logTenant = s
	case fLogClass:
		c.logClass = s
	case fLogContent:
		c.logContent = s
	case fLogLevel:
		c.logLevel = s
	case fLogTrace:
		c.logTrace = s
	case fLogInstance:
		c.logInstance = s
	case fLogIP:
		c.logIP = s
	case fTime, fResponseTime, fBackendTime, fRequestMed, fResponseMed, fResponseCode:
		// A client's definition may carry a number as a string.
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			c.int(f, n)
		}
	}
}

func (c *converter) int(f field, n int64) {
	e := &c.ev
	switch f {
	case fTime:
		c.ms = n
	case fResponseTime:
		e.ResponseLatency = n
	case fBackendTime:
		e.BackendLatency = n
	case fRequestMed:
		e.RequestMediationLatency = n
	case fResponseMed:
		e.ResponseMediationLatency = n
	case fResponseCode:
		e.ProxyResponseCode = int(n)
	case fErrorCode:
		c.errorCode = strconv.FormatInt(n, 10)
	case fCacheHit:
		e.ResponseCacheHit = n != 0
	}
}

func (c *converter) bool(f field, b bool) {
	if f == fCacheHit {
		c.ev.ResponseCacheHit = b
	}
}

// finishEvent completes c.ev once every value is in.
func (c *converter) finishEvent(k kind, stamp int64) {
	e := &c.ev
	ms := c.ms
	if ms < 0 {
		ms = stamp
	}
	e.RequestTimestamp = time.UnixMilli(ms).UTC()
	e.Properties = nil
	// "{}", what gateways send for no properties, needs no JSON scanner.
	if p := strings.TrimSpace(c.properties); p == "{}" || p != "" && json.Valid([]byte(p)) {
		// A view, not a copy: the event is encoded before the string's
		// bytes can change, and nothing writes through it.
		e.Properties = unsafe.Slice(unsafe.StringData(p), len(p))
	}
	switch k {
	case kindRequest:
		e.EventType = apilens.EventResponse
	case kindFault:
		e.EventType = apilens.EventFault
		code, err := strconv.Atoi(strings.TrimSpace(c.errorCode))
		if err != nil {
			code = -1
		}
		e.ErrorCode = code
		e.ErrorType, e.ErrorMessage, e.ProxyResponseCode = classifyFault(code)
	case kindThrottle:
		e.EventType = apilens.EventFault
		e.ErrorType = apilens.FaultThrottled
		e.ErrorMessage, e.ErrorCode, e.ProxyResponseCode = classifyThrottle(c.reason)
	}
	e.Normalize()
}

// finishLog returns the log record of the values fed to c: source is the
// instance, else the ip; content is the message and the stack trace.
func (c *converter) finishLog(stamp int64) *apilens.LogRecord {
	ms := c.ms
	if ms < 0 {
		ms = stamp
	}
	src := c.logInstance
	if src == "" {
		src = c.logIP
	}
	if src == "" {
		src = apilens.Unknown
	}
	content := c.logContent
	if c.logTrace != "" {
		content += "\n" + c.logTrace
	}
	if len(content) > apilens.MaxLogContentLen {
		content = content[:apilens.MaxLogContentLen]
	}
	return &apilens.LogRecord{
		Source:  strings.Clone(src),
		Time:    time.UnixMilli(ms).UTC(),
		Level:   strings.ToUpper(strings.TrimSpace(c.logLevel)),
		Logger:  strings.Clone(c.logClass),
		Tenant:  strings.Clone(c.logTenant),
		Message: strings.Clone(firstLine(c.logContent)),
		Content: strings.Clone(content),
		Parsed:  true,
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSuffix(s[:i], "\r")
	}
	return s
}

// classifyFault maps a 3.x fault's error code to the 4.x category,
// sub-category and the status the gateway answered with. It follows the
// 4.x gateway's FaultCodeClassifier, as package simulate does:
//
//   - 900900–900999, the gateway's authentication handler: AUTH, with
//     AUTHENTICATION_FAILURE for bad or missing credentials and tokens
//     (900900–900904, 401), AUTHORIZATION_FAILURE for a wrong token type
//     or scope (900905 401, 900910 403), SUBSCRIPTION_VALIDATION_FAILURE
//     for forbidden, inactive or blocked (900908, 900909 403; 900907 503),
//     OTHER for the rest (900906 no matching resource 404, others 500).
//   - 101503 connection failed, 101505 connection closed and 303001
//     endpoint suspended: TARGET_CONNECTIVITY/CONNECTION_SUSPENDED, 503;
//     101504 and 101508, the timeouts: CONNECTION_TIMEOUT, 504. These are
//     Synapse's transport error codes for the backend.
//   - everything else: OTHER, RESOURCE_NOT_FOUND for 404,
//     METHOD_NOT_ALLOWED for 405, else MEDIATION_ERROR (a fault sequence
//     ran), 500.
func classifyFault(code int) (errorType, errorMessage string, status int) {
	switch {
	case code >= 900900 && code <= 900904:
		return apilens.FaultAuth, "AUTHENTICATION_FAILURE", 401
	case code == 900905:
		return apilens.FaultAuth, "AUTHORIZATION_FAILURE", 401
	case code == 900910:
		return apilens.FaultAuth, "AUTHORIZATION_FAILURE", 403
	case code == 900908 || code == 900909:
		return apilens.FaultAuth, "SUBSCRIPTION_VALIDATION_FAILURE", 403
	case code == 900907:
		return apilens.FaultAuth, "SUBSCRIPTION_VALIDATION_FAILURE", 503
	case code == 900906:
		return apilens.FaultAuth, "OTHER", 404
	case code > 900900 && code <= 900999:
		return apilens.FaultAuth, "OTHER", 500
	case code == 101504 || code == 101508:
		return apilens.FaultTargetConnectivity, "CONNECTION_TIMEOUT", 504
	case code == 101503 || code == 101505 || code == 303001:
		return apilens.FaultTargetConnectivity, "CONNECTION_SUSPENDED", 503
	case code == 404:
		return apilens.FaultOther, "RESOURCE_NOT_FOUND", 404
	case code == 405:
		return apilens.FaultOther, "METHOD_NOT_ALLOWED", 405
	}
	return apilens.FaultOther, "MEDIATION_ERROR", 500
}

// throttleReasons maps the 3.x throttledOutReason values (the gateway's
// APIThrottleConstants) to the 4.x sub-category, error code and status.
var throttleReasons = map[string]struct {
	sub    string
	code   int
	status int
}{
	"API_LIMIT_EXCEEDED":                {"API_LEVEL_LIMIT_EXCEEDED", 900800, 429},
	"HARD_LIMIT_EXCEEDED":               {"HARD_LIMIT_EXCEEDED", 900801, 429},
	"RESOURCE_LIMIT_EXCEEDED":           {"RESOURCE_LEVEL_LIMIT_EXCEEDED", 900802, 429},
	"APPLICATION_LIMIT_EXCEEDED":        {"APPLICATION_LEVEL_LIMIT_EXCEEDED", 900803, 429},
	"SUBSCRIPTION_LIMIT_EXCEEDED":       {"SUBSCRIPTION_LIMIT_EXCEEDED", 900804, 429},
	"REQUEST_BLOCKED":                   {"BLOCKED", 900805, 403},
	"CUSTOM_POLICY_LIMIT_EXCEED":        {"CUSTOM_POLICY_LIMIT_EXCEEDED", 900806, 429},
	"SUBSCRIPTION_BURST_LIMIT_EXCEEDED": {"BURST_CONTROL_LIMIT_EXCEEDED", 900807, 429},
	"QUERY_TOO_DEEP":                    {"QUERY_TOO_DEEP", 900820, 400},
	"QUERY_TOO_COMPLEX":                 {"QUERY_TOO_COMPLEX", 900821, 400},
}

// classifyThrottle maps a throttledOutReason to the 4.x sub-category (the
// fault's errorMessage), error code and status. The 4.x names are accepted
// as they are; an unknown reason is kept as sent (Normalize cuts it to 30
// characters), with the generic throttling code 900800 and 429.
func classifyThrottle(reason string) (sub string, code, status int) {
	r := strings.TrimSpace(reason)
	if t, ok := throttleReasons[r]; ok {
		return t.sub, t.code, t.status
	}
	for _, t := range throttleReasons {
		if t.sub == r {
			return t.sub, t.code, t.status
		}
	}
	return r, 900800, 429
}
