package ingest

import (
	"strings"
	"testing"
	"time"

	"github.com/apilens/apilens"
)

const goodResponse = `{"requestTimestamp":"2026-11-20T10:15:30.123Z","correlationId":"c1","keyType":"PRODUCTION","apiId":"a1","apiType":"HTTP","apiName":"PizzaShackAPI","apiVersion":"1.0.0","apiCreator":"admin","apiMethod":"GET","apiContext":"/pizzashack/1.0.0","apiResourceTemplate":"/menu","apiCreatorTenantDomain":"carbon.super","destination":"https://localhost:9443/am/sample/pizzashack/v1/api/","applicationId":"app-1","applicationName":"DefaultApplication","applicationOwner":"alice","regionId":"default","gatewayType":"SYNAPSE","userName":"alice@carbon.super","proxyResponseCode":200,"targetResponseCode":200,"responseCacheHit":false,"responseLatency":42,"backendLatency":30,"requestMediationLatency":5,"responseMediationLatency":4,"userIp":"203.0.113.9","userAgentHeader":"curl/8.5.0","properties":{"a":1},"eventType":"response"}`

const goodFault = `{"requestTimestamp":"2026-11-20T10:15:31Z","apiName":"PizzaShackAPI","apiCreatorTenantDomain":"carbon.super","errorType":"AUTH","errorCode":900901,"errorMessage":"AUTHENTICATION_FAILURE","proxyResponseCode":401,"eventType":"fault"}`

func TestParseEventsNDJSONAndArray(t *testing.T) {
	bad := []struct{ item, want string }{
		{`"just a string"`, "not a JSON object"},
		{`{"apiName":"X"}`, `"requestTimestamp" is missing`},
		{`{"requestTimestamp":"yesterday"}`, `"requestTimestamp": cannot parse "yesterday"`},
		{`{"requestTimestamp":"2026-11-20T10:15:30Z","proxyResponseCode":"200"}`, `field "proxyResponseCode": JSON string where an integer expected`},
		{`{"requestTimestamp":"2026-11-20T10:15:30Z","responseCacheHit":"no"}`, `field "responseCacheHit"`},
		{`{"requestTimestamp":"2026-11-20T10:15:30Z", broken`, "invalid JSON"},
	}
	var nd, arr []string
	nd = append(nd, goodResponse)
	arr = append(arr, goodResponse)
	for _, b := range bad {
		nd = append(nd, b.item)
		if !strings.Contains(b.item, "broken") {
			arr = append(arr, b.item)
		}
	}
	nd = append(nd, "", goodFault)
	arr = append(arr, goodFault)

	check := func(name string, body string, nbad int) {
		t.Helper()
		var ps Parser
		events, rejected, err := ps.ParseEvents([]byte(body), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(events) != 2 {
			t.Fatalf("%s: %d good events, want 2", name, len(events))
		}
		if len(rejected) != nbad {
			t.Fatalf("%s: %d rejected, want %d: %+v", name, len(rejected), nbad, rejected)
		}
		for i, r := range rejected {
			if r.Index != i+1 || !strings.Contains(r.Error, bad[i].want) {
				t.Errorf("%s: rejection %d = %+v, want index %d and %q", name, i, r, i+1, bad[i].want)
			}
		}
	}
	check("ndjson", strings.Join(nd, "\n"), len(bad))
	check("array", "["+strings.Join(arr, ",")+"]", len(bad)-1)

	var ps Parser
	if _, _, err := ps.ParseEvents([]byte(`[{"a":1},`), nil); apilens.ErrorCode(err) != apilens.EINVALID {
		t.Fatalf("broken array: err = %v, want EINVALID", err)
	}
}

func TestDecodeEventDefaults(t *testing.T) {
	var e apilens.Event
	var ps Parser
	if err := ps.DecodeEvent([]byte(`{"requestTimestamp":1763633730123}`), &e); err != nil {
		t.Fatal(err)
	}
	if !e.RequestTimestamp.Equal(time.UnixMilli(1763633730123)) {
		t.Errorf("epoch millis: %v", e.RequestTimestamp)
	}
	if e.APIName != apilens.Unknown || e.UserName != apilens.Anonymous || e.ProxyResponseCode != -1 ||
		e.ResponseLatency != -1 || e.EventType != apilens.EventResponse {
		t.Errorf("defaults: %+v", e)
	}
	if err := ps.DecodeEvent([]byte(goodFault), &e); err != nil {
		t.Fatal(err)
	}
	if e.ErrorCode != 900901 || e.ErrorType != apilens.FaultAuth || e.ProxyResponseCode != 401 || !e.IsFault() {
		t.Errorf("fault: %+v", e)
	}
	if err := ps.DecodeEvent([]byte(`{"requestTimestamp":"2026-11-20 10:15:30.5"}`), &e); err != nil || e.RequestTimestamp.Nanosecond() != 5e8 {
		t.Errorf("zone-less timestamp: %v %v", e.RequestTimestamp, err)
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(goodResponse))
	f.Add([]byte(goodFault))
	f.Add([]byte(`{"requestTimestamp":-1}`))
	f.Fuzz(func(t *testing.T, item []byte) {
		var e apilens.Event
		var ps Parser
		if err := ps.DecodeEvent(item, &e); err != nil {
			return
		}
		if e.RequestTimestamp.IsZero() || e.APIName == "" || e.EventType == "" {
			t.Fatalf("accepted event not normalized: %+v", e)
		}
		// An accepted event must survive the spool codec.
		var d apilens.Decoder
		var b apilens.Batch
		if err := d.DecodeBatch(apilens.AppendBatch(nil, &apilens.Batch{Events: []apilens.Event{e}}), &b); err != nil {
			t.Fatal(err)
		}
	})
}

// BenchmarkParseEvents measures what a receiver does with a body: decode
// each event and encode it for the spool.
func BenchmarkParseEvents(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 500; i++ {
		sb.WriteString(goodResponse)
		sb.WriteByte('\n')
	}
	body := []byte(sb.String())
	var ps Parser
	var buf []byte
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		buf = buf[:0]
		if _, err := ps.Each(body, func(e *apilens.Event) { buf = apilens.AppendEvent(buf, e) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*500), "ns/event")
}

// FuzzParseEvents feeds whole request bodies: every item is either accepted
// or rejected with a reason, never lost, and the parser never panics.
func FuzzParseEvents(f *testing.F) {
	f.Add([]byte(goodResponse + "\n" + goodFault + "\nnot json\n"))
	f.Add([]byte("[" + goodResponse + ",1,{}]"))
	f.Add([]byte("[\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		var ps Parser
		events, rejected, err := ps.ParseEvents(body, nil)
		if err != nil {
			if len(events) != 0 || len(rejected) != 0 {
				t.Fatalf("a body-level error kept %d events and %d rejections", len(events), len(rejected))
			}
			return
		}
		for _, r := range rejected {
			if r.Error == "" || r.Index < 0 {
				t.Fatalf("rejection without a reason: %+v", r)
			}
		}
		for i := range events {
			if events[i].RequestTimestamp.IsZero() || events[i].EventType == "" {
				t.Fatalf("accepted event %d not normalized", i)
			}
		}
	})
}
