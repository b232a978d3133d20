package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/apilens/apilens"
)

// Rejection names an item of a batch that was not accepted and why.
type Rejection struct {
	Index int    `json:"index"`
	Error string `json:"error"`
}

// Parser decodes 4.x analytics event documents. It reuses its buffers and
// interns repeated strings (API names, applications, user agents repeat),
// which is what makes JSON ingest cheap; it is not safe for concurrent use.
type Parser struct {
	p      fastjson.Parser
	intern map[string]string
}

// ParseEvents decodes a body of 4.x analytics events, NDJSON or a JSON
// array (detected by the first non-space byte), appending the good ones,
// normalized, to events. Each item is decoded on its own: a bad item is
// rejected with a reason that names the field, and the rest are kept. The
// error is non-nil only when the body as a whole cannot be read (a broken
// JSON array).
func (ps *Parser) ParseEvents(body []byte, events []apilens.Event) ([]apilens.Event, []Rejection, error) {
	var rejected []Rejection
	add := func(i int, v *fastjson.Value, err error) {
		events = append(events, apilens.Event{})
		e := &events[len(events)-1]
		if err == nil {
			err = ps.event(v, e)
		}
		if err != nil {
			events = events[:len(events)-1]
			rejected = append(rejected, Rejection{Index: i, Error: err.Error()})
		}
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		v, err := ps.p.ParseBytes(trimmed)
		if err != nil {
			return events, nil, apilens.Errorf(apilens.EINVALID, "body is not a valid JSON array: %v", err)
		}
		items, _ := v.Array()
		for i, item := range items {
			add(i, item, nil)
		}
		return events, rejected, nil
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
	return events, rejected, nil
}

// DecodeEvent decodes one 4.x event document into e and normalizes it.
// It fails only when the item is not a JSON object, when requestTimestamp
// is missing or unparsable, or when a field has the wrong JSON type
// (SPEC §5); any other missing field becomes UNKNOWN or -1.
func (ps *Parser) DecodeEvent(item []byte, e *apilens.Event) error {
	v, err := ps.p.ParseBytes(item)
	if err != nil {
		return fmt.Errorf("invalid JSON: %v", err)
	}
	return ps.event(v, e)
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
			ferr = ps.str(v, &e.CorrelationID, false)
		case "keyType":
			ferr = ps.str(v, &e.KeyType, true)
		case "apiId":
			ferr = ps.str(v, &e.APIID, true)
		case "apiType":
			ferr = ps.str(v, &e.APIType, true)
		case "apiName":
			ferr = ps.str(v, &e.APIName, true)
		case "apiVersion":
			ferr = ps.str(v, &e.APIVersion, true)
		case "apiCreator":
			ferr = ps.str(v, &e.APICreator, true)
		case "apiMethod":
			ferr = ps.str(v, &e.APIMethod, true)
		case "apiContext":
			ferr = ps.str(v, &e.APIContext, true)
		case "apiResourceTemplate":
			ferr = ps.str(v, &e.APIResourceTemplate, true)
		case "apiCreatorTenantDomain":
			ferr = ps.str(v, &e.APICreatorTenantDomain, true)
		case "destination":
			ferr = ps.str(v, &e.Destination, true)
		case "applicationId":
			ferr = ps.str(v, &e.ApplicationID, true)
		case "applicationName":
			ferr = ps.str(v, &e.ApplicationName, true)
		case "applicationOwner":
			ferr = ps.str(v, &e.ApplicationOwner, true)
		case "regionId":
			ferr = ps.str(v, &e.RegionID, true)
		case "gatewayType":
			ferr = ps.str(v, &e.GatewayType, true)
		case "userName":
			ferr = ps.str(v, &e.UserName, true)
		case "userIp":
			ferr = ps.str(v, &e.UserIP, true)
		case "userAgentHeader":
			ferr = ps.str(v, &e.UserAgentHeader, true)
		case "eventType":
			ferr = ps.str(v, &e.EventType, true)
		case "errorType":
			ferr = ps.str(v, &e.ErrorType, true)
		case "errorMessage":
			ferr = ps.str(v, &e.ErrorMessage, true)
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
				e.Properties = v.MarshalTo(nil)
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

// maxInterned bounds a Parser's intern table (one per concurrent request):
// the values that repeat (APIs, applications, user agents) fit; the table
// is dropped and restarted when full.
const maxInterned = 4096

// str sets *dst from a JSON string, interning it if asked.
func (ps *Parser) str(v *fastjson.Value, dst *string, intern bool) error {
	if v.Type() != fastjson.TypeString {
		return typeError(v, "a string")
	}
	b, _ := v.StringBytes()
	if !intern || len(b) > 256 {
		*dst = string(b)
		return nil
	}
	if s, ok := ps.intern[string(b)]; ok {
		*dst = s
		return nil
	}
	if ps.intern == nil || len(ps.intern) >= maxInterned {
		ps.intern = make(map[string]string, 1024)
	}
	s := string(b)
	ps.intern[s] = s
	*dst = s
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
