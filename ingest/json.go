package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/apilens/apilens"
)

// Rejection names an item of a batch that was not accepted and why.
type Rejection struct {
	Index int    `json:"index"`
	Error string `json:"error"`
}

// Parser decodes 4.x analytics event documents. It is not safe for
// concurrent use; keep one per request (they are pooled).
type Parser struct {
	p     fastjson.Parser
	props []byte
}

// Each decodes a body of 4.x analytics events, NDJSON or a JSON array
// (detected by the first non-space byte), and calls fn with each good
// event, normalized. Each item is decoded on its own: a bad item is
// rejected with a reason that names the field, and the rest are kept. The
// error is non-nil only when the body as a whole cannot be read (a broken
// JSON array).
//
// The event given to fn, and its strings, are views of the parser's
// buffers, valid only until fn returns: a receiver encodes it at once
// (apilens.AppendEvent), which is what makes JSON ingest cheap — no event
// slice, no string copies.
func (ps *Parser) Each(body []byte, fn func(e *apilens.Event)) ([]Rejection, error) {
	var rejected []Rejection
	var e apilens.Event
	add := func(i int, v *fastjson.Value, err error) {
		if err == nil {
			err = ps.event(v, &e)
		}
		if err != nil {
			rejected = append(rejected, Rejection{Index: i, Error: err.Error()})
			return
		}
		fn(&e)
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		v, err := ps.p.ParseBytes(trimmed)
		if err != nil {
			return nil, apilens.Errorf(apilens.EINVALID, "body is not a valid JSON array: %v", err)
		}
		items, _ := v.Array()
		for i, item := range items {
			add(i, item, nil)
		}
		return rejected, nil
	}
	i := 0
	for len(body) > 0 {
		line := body
		if n := bytes.IndexByte(body, '\n'); n >= 0 {
			line, body = body[:n], body[n+1:]
		} else {
			body = nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		v, err := ps.p.ParseBytes(line)
		if err != nil {
			err = fmt.Errorf("invalid JSON: %v", err)
		}
		add(i, v, err)
		i++
	}
	return rejected, nil
}

// ParseEvents is Each collecting copies of the good events into events.
func (ps *Parser) ParseEvents(body []byte, events []apilens.Event) ([]apilens.Event, []Rejection, error) {
	rejected, err := ps.Each(body, func(e *apilens.Event) { events = append(events, cloneEvent(e)) })
	return events, rejected, err
}

// cloneEvent copies e with strings of its own.
func cloneEvent(e *apilens.Event) apilens.Event {
	c := *e
	for _, p := range [...]*string{
		&c.CorrelationID, &c.KeyType, &c.APIID, &c.APIType, &c.APIName, &c.APIVersion,
		&c.APICreator, &c.APIMethod, &c.APIContext, &c.APIResourceTemplate,
		&c.APICreatorTenantDomain, &c.Destination, &c.ApplicationID,
		&c.ApplicationName, &c.ApplicationOwner, &c.RegionID, &c.GatewayType,
		&c.UserName, &c.UserIP, &c.UserAgentHeader, &c.EventType, &c.ErrorType,
		&c.ErrorMessage, &c.Country, &c.City, &c.Browser, &c.OS, &c.Device,
	} {
		*p = strings.Clone(*p)
	}
	c.Properties = bytes.Clone(e.Properties)
	return c
}

// DecodeEvent decodes one 4.x event document into e and normalizes it.
// It fails only when the item is not a JSON object, when requestTimestamp
// is missing or unparsable, or when a field has the wrong JSON type
// (SPEC §5); any other missing field becomes UNKNOWN or -1. e holds its
// own copies.
func (ps *Parser) DecodeEvent(item []byte, e *apilens.Event) error {
	v, err := ps.p.ParseBytes(item)
	if err != nil {
		return fmt.Errorf("invalid JSON: %v", err)
	}
	if err := ps.event(v, e); err != nil {
		return err
	}
	*e = cloneEvent(e)
	return nil
}

func (ps *Parser) event(v *fastjson.Value, e *apilens.Event) error {
	obj, err := v.Object()
	if err != nil {
		return errors.New("not a JSON object")
	}
	*e = apilens.Event{
		ProxyResponseCode: -1, TargetResponseCode: -1, ErrorCode: -1,
		ResponseLatency: -1, BackendLatency: -1, RequestMediationLatency: -1, ResponseMediationLatency: -1,
	}
	var ferr error
	var sawTime bool
	obj.Visit(func(k []byte, v *fastjson.Value) {
		if ferr != nil || v.Type() == fastjson.TypeNull {
			return
		}
		// Switching on string(k) does not allocate; the name is copied only
		// into an error.
		switch string(k) {
		case "requestTimestamp":
			sawTime = true
			e.RequestTimestamp, ferr = parseTimestamp(v)
		case "correlationId":
			ferr = str(v, &e.CorrelationID)
		case "keyType":
			ferr = str(v, &e.KeyType)
		case "apiId":
			ferr = str(v, &e.APIID)
		case "apiType":
			ferr = str(v, &e.APIType)
		case "apiName":
			ferr = str(v, &e.APIName)
		case "apiVersion":
			ferr = str(v, &e.APIVersion)
		case "apiCreator":
			ferr = str(v, &e.APICreator)
		case "apiMethod":
			ferr = str(v, &e.APIMethod)
		case "apiContext":
			ferr = str(v, &e.APIContext)
		case "apiResourceTemplate":
			ferr = str(v, &e.APIResourceTemplate)
		case "apiCreatorTenantDomain":
			ferr = str(v, &e.APICreatorTenantDomain)
		case "destination":
			ferr = str(v, &e.Destination)
		case "applicationId":
			ferr = str(v, &e.ApplicationID)
		case "applicationName":
			ferr = str(v, &e.ApplicationName)
		case "applicationOwner":
			ferr = str(v, &e.ApplicationOwner)
		case "regionId":
			ferr = str(v, &e.RegionID)
		case "gatewayType":
			ferr = str(v, &e.GatewayType)
		case "userName":
			ferr = str(v, &e.UserName)
		case "userIp":
			ferr = str(v, &e.UserIP)
		case "userAgentHeader":
			ferr = str(v, &e.UserAgentHeader)
		case "eventType":
			ferr = str(v, &e.EventType)
		case "errorType":
			ferr = str(v, &e.ErrorType)
		case "errorMessage":
			ferr = str(v, &e.ErrorMessage)
		case "proxyResponseCode":
			ferr = intField(v, &e.ProxyResponseCode)
		case "targetResponseCode":
			ferr = intField(v, &e.TargetResponseCode)
		case "errorCode":
			ferr = intField(v, &e.ErrorCode)
		case "responseLatency":
			ferr = int64Field(v, &e.ResponseLatency)
		case "backendLatency":
			ferr = int64Field(v, &e.BackendLatency)
		case "requestMediationLatency":
			ferr = int64Field(v, &e.RequestMediationLatency)
		case "responseMediationLatency":
			ferr = int64Field(v, &e.ResponseMediationLatency)
		case "responseCacheHit":
			if t := v.Type(); t == fastjson.TypeTrue || t == fastjson.TypeFalse {
				e.ResponseCacheHit = t == fastjson.TypeTrue
			} else {
				ferr = typeError(v, "a boolean")
			}
		case "properties":
			if v.Type() == fastjson.TypeObject {
				ps.props = v.MarshalTo(ps.props[:0])
				e.Properties = ps.props
			} else {
				ferr = typeError(v, "an object")
			}
		}
		if ferr != nil {
			ferr = fmt.Errorf("field %q: %w", k, ferr)
		}
	})
	if ferr != nil {
		return ferr
	}
	if !sawTime {
		return errors.New(`field "requestTimestamp" is missing`)
	}
	e.Normalize()
	return nil
}

func typeError(v *fastjson.Value, want string) error {
	return fmt.Errorf("JSON %s where %s expected", v.Type(), want)
}

// str sets *dst from a JSON string, as a view of the parser's buffer.
func str(v *fastjson.Value, dst *string) error {
	if v.Type() != fastjson.TypeString {
		return typeError(v, "a string")
	}
	b, _ := v.StringBytes()
	if len(b) == 0 {
		*dst = ""
		return nil
	}
	*dst = unsafe.String(&b[0], len(b))
	return nil
}

func int64Field(v *fastjson.Value, dst *int64) error {
	if v.Type() != fastjson.TypeNumber {
		return typeError(v, "an integer")
	}
	if n, err := v.Int64(); err == nil {
		*dst = n
		return nil
	}
	f, _ := v.Float64()
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return fmt.Errorf("%v is not an integer", f)
	}
	*dst = int64(f)
	return nil
}

func intField(v *fastjson.Value, dst *int) error {
	var n int64
	if err := int64Field(v, &n); err != nil {
		return err
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return fmt.Errorf("%d is out of range", n)
	}
	*dst = int(n)
	return nil
}

// parseTimestamp reads requestTimestamp: an ISO-8601 string (with or
// without a zone; none means UTC) or a number of epoch milliseconds.
func parseTimestamp(v *fastjson.Value) (time.Time, error) {
	switch v.Type() {
	case fastjson.TypeNumber:
		ms, err := v.Int64()
		if err != nil {
			return time.Time{}, fmt.Errorf("%s is not a whole number of epoch milliseconds", v)
		}
		return time.UnixMilli(ms).UTC(), nil
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		s := string(b)
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("cannot parse %q as ISO-8601", truncateForError(s))
	}
	return time.Time{}, typeError(v, "an ISO-8601 string")
}

func truncateForError(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "…"
	}
	return s
}
