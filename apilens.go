// Package apilens holds the domain types of the apilens analytics server:
// the gateway analytics Event, the rollup families and rows it is summarized
// into, granularities, and the storage interfaces that backends implement.
//
// Implementations live in subpackages named after what they depend on
// (store/sqlite, spool, web, …); they talk to each other only through the
// types of this package, and cmd/apilens wires them together.
package apilens

import (
	"encoding/json"
	"time"
)

// Event types of the API-M 4.x analytics event (REFERENCE §3).
const (
	EventResponse = "response"
	EventFault    = "fault"
)

// Fault categories (errorType) of a fault event.
const (
	FaultAuth               = "AUTH"
	FaultTargetConnectivity = "TARGET_CONNECTIVITY"
	FaultThrottled          = "THROTTLED"
	FaultOther              = "OTHER"
)

// Placeholders for values a gateway did not send (REFERENCE §3).
const (
	Unknown   = "UNKNOWN"
	Anonymous = "anonymous"
	// Other is the value a dimension folds into past its cardinality cap.
	Other = "OTHER"
	// NotAvailable is the geo value for private or unknown addresses.
	NotAvailable = "N/A"
)

// Event is one API call as a gateway reports it: the WSO2 API-M 4.x
// analytics event, response or fault, plus the fields enrichment adds.
// The JSON names are those of the 4.x format, so encoding/json reads and
// writes the gateway's own documents.
type Event struct {
	RequestTimestamp         time.Time       `json:"requestTimestamp"`
	CorrelationID            string          `json:"correlationId,omitempty"`
	KeyType                  string          `json:"keyType,omitempty"`
	APIID                    string          `json:"apiId,omitempty"`
	APIType                  string          `json:"apiType,omitempty"`
	APIName                  string          `json:"apiName,omitempty"`
	APIVersion               string          `json:"apiVersion,omitempty"`
	APICreator               string          `json:"apiCreator,omitempty"`
	APIMethod                string          `json:"apiMethod,omitempty"`
	APIContext               string          `json:"apiContext,omitempty"`
	APIResourceTemplate      string          `json:"apiResourceTemplate,omitempty"`
	APICreatorTenantDomain   string          `json:"apiCreatorTenantDomain,omitempty"`
	Destination              string          `json:"destination,omitempty"`
	ApplicationID            string          `json:"applicationId,omitempty"`
	ApplicationName          string          `json:"applicationName,omitempty"`
	ApplicationOwner         string          `json:"applicationOwner,omitempty"`
	RegionID                 string          `json:"regionId,omitempty"`
	GatewayType              string          `json:"gatewayType,omitempty"`
	UserName                 string          `json:"userName,omitempty"`
	ProxyResponseCode        int             `json:"proxyResponseCode"`
	TargetResponseCode       int             `json:"targetResponseCode"`
	ResponseCacheHit         bool            `json:"responseCacheHit"`
	ResponseLatency          int64           `json:"responseLatency"`
	BackendLatency           int64           `json:"backendLatency"`
	RequestMediationLatency  int64           `json:"requestMediationLatency"`
	ResponseMediationLatency int64           `json:"responseMediationLatency"`
	UserIP                   string          `json:"userIp,omitempty"`
	UserAgentHeader          string          `json:"userAgentHeader,omitempty"`
	Properties               json.RawMessage `json:"properties,omitempty"`
	EventType                string          `json:"eventType"`
	ErrorType                string          `json:"errorType,omitempty"`
	ErrorCode                int             `json:"errorCode"`
	ErrorMessage             string          `json:"errorMessage,omitempty"`

	// Filled by enrichment, never by the gateway.
	Country string `json:"-"`
	City    string `json:"-"`
	Browser string `json:"-"`
	OS      string `json:"-"`
	Device  string `json:"-"`
}

// Tenant is the tenant an event belongs to: the API creator's tenant domain.
func (e *Event) Tenant() string { return e.APICreatorTenantDomain }

// IsFault reports whether e is a fault event (throttled or not).
func (e *Event) IsFault() bool { return e.EventType == EventFault }

// IsThrottled reports whether e is a fault event of category THROTTLED.
func (e *Event) IsThrottled() bool { return e.EventType == EventFault && e.ErrorType == FaultThrottled }

// maxLen are the REFERENCE §5 truncation limits, in characters.
const (
	maxMethod   = 20
	maxUserish  = 150
	maxHostname = 200
	maxReason   = 30
	maxBrowser  = 200
	// maxOther bounds every other string so a hostile publisher cannot make
	// rollup keys or raw batches arbitrarily large.
	maxOther = 1024
)

// Normalize makes e storable: over-long strings are truncated (REFERENCE
// §5), missing strings become UNKNOWN (anonymous for the user), missing
// integers -1, and an unknown event type is treated as a response. It never
// rejects: validation of types happens where the bytes are decoded.
func (e *Event) Normalize() {
	str := func(s *string, max int, missing string) {
		if *s == "" {
			*s = missing
			return
		}
		*s = truncate(*s, max)
	}
	str(&e.CorrelationID, maxOther, Unknown)
	str(&e.KeyType, maxOther, Unknown)
	str(&e.APIID, maxOther, Unknown)
	str(&e.APIType, maxOther, Unknown)
	str(&e.APIName, maxOther, Unknown)
	str(&e.APIVersion, maxOther, Unknown)
	str(&e.APICreator, maxUserish, Unknown)
	str(&e.APIMethod, maxMethod, Unknown)
	str(&e.APIContext, maxOther, Unknown)
	str(&e.APIResourceTemplate, maxOther, Unknown)
	str(&e.APICreatorTenantDomain, maxUserish, Unknown)
	str(&e.Destination, maxOther, Unknown)
	str(&e.ApplicationID, maxOther, Unknown)
	str(&e.ApplicationName, maxOther, Unknown)
	str(&e.ApplicationOwner, maxUserish, Unknown)
	str(&e.RegionID, maxOther, Unknown)
	str(&e.GatewayType, maxOther, Unknown)
	str(&e.UserName, maxUserish, Anonymous)
	str(&e.UserIP, maxOther, Unknown)
	str(&e.UserAgentHeader, 4096, Unknown)
	str(&e.Browser, maxBrowser, "")
	if e.EventType != EventFault {
		e.EventType = EventResponse
		e.ErrorType, e.ErrorMessage = "", ""
	} else {
		str(&e.ErrorType, maxOther, Unknown)
		// For throttled faults the sub-category is the throttle reason.
		lim := maxOther
		if e.ErrorType == FaultThrottled {
			lim = maxReason
		}
		str(&e.ErrorMessage, lim, Unknown)
	}
	if len(e.Properties) > 16<<10 {
		e.Properties = nil
	}
	e.RequestTimestamp = e.RequestTimestamp.UTC()
}

// truncate cuts s to at most max characters (runes), never splitting one.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i]
		}
		n++
	}
	return s
}
