package databridge

import "strings"

// Names of the streams a 3.x gateway publishes (REFERENCE §2).
const (
	StreamRequest  = "org.wso2.apimgt.statistics.request"
	StreamFault    = "org.wso2.apimgt.statistics.fault"
	StreamThrottle = "org.wso2.apimgt.statistics.throttle"
	StreamLog      = "loganalyzer"
	// StreamWorkflow and StreamBotDetection are published too but carry no
	// API call: their events are accepted and dropped (see Convert).
	StreamWorkflow     = "org.wso2.apimgt.statistics.workflow"
	StreamBotDetection = "org.wso2.botDetectionData.request.stream"
)

// The versions of the statistics streams: API-M 3.0, 3.1 and 3.2.
var statVersions = []string{"3.0.0", "3.1.0", "3.2.0"}

// Payload attributes of the statistics streams at 3.2.0, as "name:T" with T
// one of S(TRING), L(ONG), B(OOL), I(NT); a trailing * marks an attribute
// added in 3.2.0, ** one added in 3.1.0 (REFERENCE §2).
var (
	requestAttrs = strings.Fields(`applicationConsumerKey:S applicationName:S applicationId:S
		applicationOwner:S apiContext:S apiName:S apiVersion:S apiResourcePath:S
		apiResourceTemplate:S apiMethod:S apiCreator:S apiCreatorTenantDomain:S apiTier:S
		apiHostname:S username:S userTenantDomain:S userIp:S userAgent:S requestTimestamp:L
		throttledOut:B responseTime:L serviceTime:L backendTime:L responseCacheHit:B
		responseSize:L protocol:S responseCode:I destination:S securityLatency:L
		throttlingLatency:L requestMedLat:L responseMedLat:L backendLatency:L otherLatency:L
		gatewayType:S label:S properties:S**`)
	faultAttrs = strings.Fields(`applicationConsumerKey:S apiName:S apiVersion:S apiContext:S
		apiResourcePath:S apiResourceTemplate:S* apiMethod:S apiCreator:S username:S
		userTenantDomain:S apiCreatorTenantDomain:S hostname:S applicationId:S
		applicationName:S applicationOwner:S* protocol:S errorCode:S errorMessage:S
		requestTimestamp:L properties:S**`)
	throttleAttrs = strings.Fields(`username:S userTenantDomain:S apiName:S apiVersion:S
		apiContext:S apiCreator:S apiCreatorTenantDomain:S apiResourceTemplate:S* apiMethod:S*
		applicationId:S applicationName:S subscriber:S throttledOutReason:S gatewayType:S
		throttledOutTimestamp:L hostname:S properties:S**`)
	// The loganalyzer stream of the 2.x log appender, in REFERENCE §2's order.
	logAttrs = strings.Fields(`tenantID:S class:S content:S level:S trace:S eventTimeStamp:L
		instance:S appName:S ip:S`)
	workflowAttrs = strings.Fields(`workflowReference:S workflowStatus:S tenantDomain:S
		workflowType:S createdTime:L updatedTime:L`)
	botAttrs = strings.Fields(`request_time:L message_id:S http_method:S headers:S
		message_body:S client_ip:S`)
)

// Builtin returns fresh copies of the built-in stream definitions: request,
// fault and throttle at 3.0.0, 3.1.0 and 3.2.0 (meta clientType STRING, no
// correlation), loganalyzer, workflow and bot detection at 1.0.0.
func Builtin() []*StreamDef {
	meta := []Attribute{{Name: "clientType", Type: STRING}}
	var defs []*StreamDef
	for _, v := range statVersions {
		for _, s := range []struct {
			name  string
			attrs []string
		}{{StreamRequest, requestAttrs}, {StreamFault, faultAttrs}, {StreamThrottle, throttleAttrs}} {
			defs = append(defs, &StreamDef{Name: s.name, Version: v, Meta: clone(meta), Payload: attrs(s.attrs, v)})
		}
	}
	defs = append(defs,
		&StreamDef{Name: StreamLog, Version: DefaultVersion, Payload: attrs(logAttrs, "")},
		&StreamDef{Name: StreamWorkflow, Version: DefaultVersion, Payload: attrs(workflowAttrs, "")},
		&StreamDef{Name: StreamBotDetection, Version: DefaultVersion, Payload: attrs(botAttrs, "")},
	)
	return defs
}

// attrs parses the compact attribute lists above, leaving out those added
// after version.
func attrs(spec []string, version string) []Attribute {
	types := map[byte]AttrType{'S': STRING, 'L': LONG, 'B': BOOL, 'I': INT}
	var out []Attribute
	for _, f := range spec {
		name, t, _ := strings.Cut(f, ":")
		switch {
		case strings.HasSuffix(t, "**") && version == "3.0.0":
			continue
		case strings.HasSuffix(t, "*") && !strings.HasSuffix(t, "**") && version != "3.2.0":
			continue
		}
		out = append(out, Attribute{Name: name, Type: types[t[0]]})
	}
	return out
}
