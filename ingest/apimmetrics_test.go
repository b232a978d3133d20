package ingest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/apilens/apilens"
)

// A fault as a 4.x gateway writes it, without eventType (the line's kind
// says it).
const faultNoType = `{"requestTimestamp":"2026-11-20T10:15:31.004Z","correlationId":"c2","keyType":"PRODUCTION","errorType":"THROTTLED","errorCode":900803,"errorMessage":"APPLICATION_LEVEL_LIMIT_EXCEEDED","apiId":"a1","apiType":"HTTP","apiName":"PizzaShackAPI","apiVersion":"1.0.0","apiCreator":"admin","apiCreatorTenantDomain":"carbon.super","applicationId":"app-1","applicationName":"DefaultApplication","applicationOwner":"alice","regionId":"default","gatewayType":"SYNAPSE","proxyResponseCode":429,"targetResponseCode":-1,"properties":{}}`

func TestParseAPIMMetrics(t *testing.T) {
	const synapse = `10:15:30,123 [10.0.0.5-gw-1] [PassThroughMessageProcessor-7]  INFO ELKCounterMetric apimMetrics: `
	cases := []struct {
		name, line string
		kind       APIMMetricsLine
		want       string // the event document; for errors, a part of the message
		wantErr    bool
	}{
		{"synapse response", synapse + "apim:response, properties :" + goodResponse, APIMEvent, goodResponse, false},
		{"go gateway response", `2026-11-20T10:15:30.123Z INFO apimMetrics: apim:response, properties: ` + goodResponse, APIMEvent, goodResponse, false},
		{"synapse fault, eventType added", synapse + "apim:faulty, properties :" + faultNoType, APIMEvent, `{"eventType":"fault",` + faultNoType[1:], false},
		{"go gateway fault, CRLF", "apimMetrics: apim:faulty, properties: " + faultNoType + " \r", APIMEvent, `{"eventType":"fault",` + faultNoType[1:], false},
		{"response without eventType", synapse + `apim:response, properties :{"requestTimestamp":"2026-11-20T10:15:30Z"}`, APIMEvent, `{"eventType":"response","requestTimestamp":"2026-11-20T10:15:30Z"}`, false},
		{"eventType kept as written", synapse + `apim:faulty, properties :{"eventType":"fault","requestTimestamp":"2026-11-20T10:15:30Z"}`, APIMEvent, `{"eventType":"fault","requestTimestamp":"2026-11-20T10:15:30Z"}`, false},
		{"null eventType", synapse + `apim:faulty, properties :{"eventType":null}`, APIMEvent, `{"eventType":"fault","eventType":null}`, false},
		{"empty object", synapse + `apim:faulty, properties :{ }`, APIMEvent, `{"eventType":"fault"}`, false},
		{"other kind", synapse + `apim:analytics, properties :{"x":1}`, APIMSkipped, "", false},
		{"other kind, broken JSON", synapse + `apim:choreo, properties :{"x":`, APIMSkipped, "", false},
		{"carbon line", `TID: [-1234] [] [2026-11-20 10:15:30,123]  INFO {org.wso2.carbon.core.init.CarbonServerManager} - Server started`, APIMOther, "", false},
		{"metrics reporter line", `10:15:30,123 [-] [main]  INFO ELKMetricReporter Starting ELK metric reporter`, APIMOther, "", false},
		{"empty line", "", APIMOther, "", false},
		{"truncated JSON", synapse + `apim:response, properties :{"requestTimestamp":"2026-11-20T10:15:30Z","apiName":"Pizz`, 0, "invalid JSON", true},
		{"trailing garbage", synapse + `apim:response, properties :{"a":1} and more`, 0, "invalid JSON", true},
		{"not an object", synapse + `apim:response, properties :[1,2]`, 0, "not a JSON object", true},
		{"no properties", synapse + `apim:response`, 0, "without properties", true},
		{"no colon", synapse + `apim:response, properties {"a":1}`, 0, `without ":"`, true},
		{"no kind", synapse + `apim:, properties :{}`, 0, "no kind", true},
		{"garbage after the marker", synapse + `\x00\xff garbage`, 0, "apim:<kind>", true},
	}
	var ps APIMMetricsParser
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, kind, err := ps.Parse([]byte("prefix\n"), []byte(c.line))
			if c.wantErr {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error %v, want one saying %q", err, c.want)
				}
				if string(got) != "prefix\n" {
					t.Errorf("dst changed on error: %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if kind != c.kind {
				t.Errorf("kind %d, want %d", kind, c.kind)
			}
			if want := "prefix\n" + c.want; string(got) != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// TestParseAPIMMetricsEvents holds the documents to the server's parser:
// a faulty line is a fault event, a response line a response event.
func TestParseAPIMMetricsEvents(t *testing.T) {
	var mp APIMMetricsParser
	var body []byte
	for _, l := range []string{
		"apimMetrics: apim:response, properties :" + goodResponse,
		"apimMetrics: apim:faulty, properties: " + faultNoType,
	} {
		var err error
		if body, _, err = mp.Parse(body, []byte(l)); err != nil {
			t.Fatal(err)
		}
		body = append(body, '\n')
	}
	var ps Parser
	evs, rejected, err := ps.ParseEvents(body, nil)
	if err != nil || len(rejected) > 0 || len(evs) != 2 {
		t.Fatalf("%d events, rejected %v, %v", len(evs), rejected, err)
	}
	if evs[0].EventType != apilens.EventResponse || evs[0].ResponseLatency != 42 {
		t.Errorf("response: %+v", evs[0])
	}
	if evs[1].EventType != apilens.EventFault || evs[1].ErrorType != apilens.FaultThrottled || evs[1].ErrorCode != 900803 {
		t.Errorf("fault: %+v", evs[1])
	}
}

func FuzzParseAPIMMetrics(f *testing.F) {
	for _, s := range []string{
		"10:15:30,123 [-] [t]  INFO ELKCounterMetric apimMetrics: apim:response, properties :" + goodResponse,
		"apimMetrics: apim:faulty, properties: " + faultNoType,
		`apimMetrics: apim:faulty, properties :{"eventType":null}`,
		`apimMetrics: apim:response, properties :{"a":`,
		`apimMetrics: apim:other, properties :{}`,
		"apimMetrics:apim:response,properties:{}",
		"TID: [-1234] [] [2026-11-20 10:15:30,123]  INFO {x} - y",
	} {
		f.Add([]byte(s))
	}
	var mp APIMMetricsParser
	var ps Parser
	f.Fuzz(func(t *testing.T, line []byte) {
		if bytes.IndexByte(line, '\n') >= 0 {
			return // the shipper parses lines
		}
		out, kind, err := mp.Parse([]byte("x"), line)
		if err != nil || kind != APIMEvent {
			if string(out) != "x" {
				t.Fatalf("dst changed: %q", out)
			}
			return
		}
		doc := out[1:]
		v, perr := fastjson.ParseBytes(doc)
		if perr != nil {
			t.Fatalf("not JSON: %q: %v", doc, perr)
		}
		if et := v.Get("eventType"); et == nil || et.Type() == fastjson.TypeNull {
			t.Fatalf("no eventType: %q", doc)
		}
		// The server takes the document as one NDJSON item: an event or
		// a rejection, never a broken body.
		n := 0
		rejected, err := ps.Each(append(doc, '\n'), func(*apilens.Event) { n++ })
		if err != nil || n+len(rejected) != 1 {
			t.Fatalf("server parse of %q: %d events, %v rejected, %v", doc, n, rejected, err)
		}
	})
}
