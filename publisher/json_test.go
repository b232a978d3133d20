package publisher

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apilens/apilens"
)

var t0 = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// roundTrip encodes e and decodes it with encoding/json.
func roundTrip(t testing.TB, e *apilens.Event) (apilens.Event, []byte) {
	t.Helper()
	line := AppendNDJSON(nil, e)
	if len(line) == 0 || line[len(line)-1] != '\n' || bytes.Count(line, []byte("\n")) != 1 {
		t.Fatalf("not one line: %q", line)
	}
	var got apilens.Event
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatalf("encoding/json cannot read %s: %v", line, err)
	}
	return got, line
}

// randomString mixes ASCII, characters JSON must escape, and multi-byte
// characters.
func randomString(r *rand.Rand) string {
	const pool = "aZ09 -_/{}.@\"\\\n\r\t\x00\x01\x1f\x7f<>&'é中😀\u2028\u2029"
	runes := []rune(pool)
	var b strings.Builder
	for range r.IntN(20) {
		b.WriteRune(runes[r.IntN(len(runes))])
	}
	return b.String()
}

func randomEvent(r *rand.Rand) apilens.Event {
	s := func() string {
		if r.IntN(4) == 0 {
			return ""
		}
		return randomString(r)
	}
	e := apilens.Event{
		RequestTimestamp:       time.UnixMilli(r.Int64N(4102444800000)).UTC(),
		CorrelationID:          s(),
		KeyType:                s(),
		APIID:                  s(),
		APIType:                s(),
		APIName:                s(),
		APIVersion:             s(),
		APICreator:             s(),
		APIMethod:              s(),
		APIContext:             s(),
		APIResourceTemplate:    s(),
		APICreatorTenantDomain: s(),
		Destination:            s(),
		ApplicationID:          s(),
		ApplicationName:        s(),
		ApplicationOwner:       s(),
		RegionID:               s(),
		GatewayType:            s(),
		UserName:               s(),
		ProxyResponseCode:      r.IntN(1200) - 100,
		TargetResponseCode:     r.IntN(1200) - 100,
		UserIP:                 s(),
		UserAgentHeader:        s(),
	}
	if r.IntN(3) == 0 {
		p, _ := json.Marshal(map[string]string{randomString(r): randomString(r)})
		e.Properties = p
	}
	if r.IntN(2) == 0 {
		e.EventType = apilens.EventFault
		e.ErrorType, e.ErrorMessage = s(), s()
		e.ErrorCode = int(r.Int32()) - 1<<30
	} else {
		e.EventType = apilens.EventResponse
		e.ResponseCacheHit = r.IntN(2) == 0
		e.ResponseLatency = r.Int64() - 1<<62
		e.BackendLatency = r.Int64N(1 << 40)
		e.RequestMediationLatency = r.Int64N(100)
		e.ResponseMediationLatency = -r.Int64N(100)
	}
	return e
}

func TestAppendNDJSONRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20_000 {
		e := randomEvent(r)
		got, line := roundTrip(t, &e)
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("round trip changed the event\n in: %+v\nout: %+v\njson: %s", e, got, line)
		}
	}
}

func TestAppendNDJSONShape(t *testing.T) {
	ts := time.Date(2025, 7, 4, 9, 5, 3, 987654321, time.FixedZone("X", 5*3600))
	resp := apilens.Event{RequestTimestamp: ts, EventType: apilens.EventResponse, APIName: "PizzaShackAPI", ProxyResponseCode: 200, ResponseLatency: 12}
	line := string(AppendNDJSON(nil, &resp))
	if !strings.HasPrefix(line, `{"requestTimestamp":"2025-07-04T04:05:03.987Z",`) {
		t.Errorf("timestamp not RFC 3339 UTC with milliseconds: %s", line)
	}
	for _, key := range []string{`"errorType"`, `"errorCode"`, `"errorMessage"`, `"correlationId"`} {
		if strings.Contains(line, key) {
			t.Errorf("response event carries %s: %s", key, line)
		}
	}
	for _, key := range []string{`"responseLatency":12`, `"responseCacheHit":false`, `"eventType":"response"`, `"proxyResponseCode":200`} {
		if !strings.Contains(line, key) {
			t.Errorf("response event lacks %s: %s", key, line)
		}
	}

	fault := apilens.Event{RequestTimestamp: ts, EventType: apilens.EventFault, ErrorType: "THROTTLED", ErrorCode: 900803,
		ErrorMessage: "APPLICATION_LEVEL_LIMIT_EXCEEDED", ProxyResponseCode: 429, ResponseLatency: 5, ResponseCacheHit: true}
	line = string(AppendNDJSON(nil, &fault))
	for _, key := range []string{"Latency", `"responseCacheHit"`} {
		if strings.Contains(line, key) {
			t.Errorf("fault event carries %s: %s", key, line)
		}
	}
	for _, key := range []string{`"errorType":"THROTTLED"`, `"errorCode":900803`, `"errorMessage":"APPLICATION_LEVEL_LIMIT_EXCEEDED"`, `"eventType":"fault"`} {
		if !strings.Contains(line, key) {
			t.Errorf("fault event lacks %s: %s", key, line)
		}
	}

	var empty apilens.Event
	var got apilens.Event
	if err := json.Unmarshal(AppendNDJSON(nil, &empty), &got); err != nil || got.EventType != apilens.EventResponse {
		t.Errorf("empty event: %v, eventType %q", err, got.EventType)
	}
}

func TestAppendEscapedInvalidUTF8(t *testing.T) {
	for _, s := range []string{"\xff", "a\xc3", "\xed\xa0\x80x", "ok\xe2\x82", "\xf0\x9f\x98"} {
		assertStringLikeEncodingJSON(t, s)
	}
}

func assertStringLikeEncodingJSON(t *testing.T, s string) {
	t.Helper()
	var want string
	std, _ := json.Marshal(s)
	if err := json.Unmarshal(std, &want); err != nil {
		t.Fatal(err)
	}
	enc := append(appendEscaped([]byte{'"'}, s), '"')
	var got string
	if err := json.Unmarshal(enc, &got); err != nil {
		t.Fatalf("%q encoded as %s: %v", s, enc, err)
	}
	if got != want {
		t.Fatalf("%q: read back %q, encoding/json gives %q", s, got, want)
	}
	if !utf8.Valid(enc) {
		t.Fatalf("%q encoded as invalid UTF-8", s)
	}
}

func FuzzAppendNDJSON(f *testing.F) {
	f.Add("PizzaShackAPI", 200, int64(12))
	f.Add("a\"b\\c\n\x00é\xff", -1, int64(-5))
	f.Fuzz(func(t *testing.T, s string, code int, lat int64) {
		assertStringLikeEncodingJSON(t, s)
		e := apilens.Event{
			RequestTimestamp: t0, APIName: s, UserAgentHeader: s, ErrorMessage: s,
			ProxyResponseCode: code, ResponseLatency: lat, EventType: apilens.EventResponse,
		}
		if utf8.ValidString(s) {
			e.ErrorMessage = ""
			got, line := roundTrip(t, &e)
			if !reflect.DeepEqual(got, e) {
				t.Fatalf("round trip changed the event: %s", line)
			}
		} else if !json.Valid(AppendNDJSON(nil, &e)) {
			t.Fatal("invalid JSON")
		}
	})
}
