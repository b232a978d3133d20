package databridge

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/apilens/apilens"
)

// event builds an event of stream id with the named values; the others are
// null.
func event(t testing.TB, r *Registry, id string, ts int64, vals map[string]any) Event {
	t.Helper()
	d := r.Lookup(id)
	if d == nil {
		t.Fatalf("no stream %s", id)
	}
	ev := Event{StreamID: id, Timestamp: ts, Meta: make([]any, len(d.Meta)), Payload: make([]any, len(d.Payload))}
	for i, a := range d.Meta {
		ev.Meta[i] = vals[a.Name]
	}
	for i, a := range d.Payload {
		ev.Payload[i] = vals[a.Name]
	}
	return ev
}

var t0 = time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)

func requestValues(code int32) map[string]any {
	return map[string]any{
		"clientType": "producer", "applicationConsumerKey": "ck", "applicationName": "App", "applicationId": "7",
		"applicationOwner": "alice", "apiContext": "/pizza/1.0", "apiName": "Pizza", "apiVersion": "1.0",
		"apiResourcePath": "/menu/3", "apiResourceTemplate": "/menu/{id}", "apiMethod": "GET", "apiCreator": "bob",
		"apiCreatorTenantDomain": "carbon.super", "username": "carol@carbon.super", "userIp": "10.0.0.1",
		"userAgent": "curl/8", "requestTimestamp": t0.UnixMilli(), "throttledOut": false, "responseTime": int64(42),
		"serviceTime": int64(5), "backendTime": int64(30), "responseCacheHit": true, "responseSize": int64(100),
		"protocol": "https-8243", "responseCode": code, "destination": "https://backend/menu",
		"requestMedLat": int64(3), "responseMedLat": int64(2), "securityLatency": int64(1),
		"throttlingLatency": int64(0), "backendLatency": int64(29), "otherLatency": int64(0), "gatewayType": "SYNAPSE", "properties": `{"a":1}`,
	}
}

func TestConvert(t *testing.T) {
	r := NewRegistry()
	conv := func(id string, vals map[string]any) *Converted {
		t.Helper()
		ev := event(t, r, id, t0.Add(time.Hour).UnixMilli(), vals)
		out, err := Convert(r.Lookup(id), &ev)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		return out
	}
	for _, v := range statVersions {
		e := conv(StreamRequest+":"+v, requestValues(201)).Event
		want := apilens.Event{
			RequestTimestamp: t0, CorrelationID: "UNKNOWN", KeyType: "UNKNOWN", APIID: "UNKNOWN", APIType: "UNKNOWN",
			APIName: "Pizza", APIVersion: "1.0", APICreator: "bob", APIMethod: "GET", APIContext: "/pizza/1.0",
			APIResourceTemplate: "/menu/{id}", APICreatorTenantDomain: "carbon.super", Destination: "https://backend/menu",
			ApplicationID: "7", ApplicationName: "App", ApplicationOwner: "alice", RegionID: "UNKNOWN", GatewayType: "SYNAPSE",
			UserName: "carol@carbon.super", ProxyResponseCode: 201, TargetResponseCode: -1, ResponseCacheHit: true,
			ResponseLatency: 42, BackendLatency: 30, RequestMediationLatency: 3, ResponseMediationLatency: 2,
			UserIP: "10.0.0.1", UserAgentHeader: "curl/8", EventType: "response", ErrorCode: -1,
		}
		if v != "3.0.0" {
			want.Properties = []byte(`{"a":1}`)
		}
		if diff := diffEvents(e, want); diff != "" {
			t.Errorf("request %s: %s", v, diff)
		}
	}

	// Nulls: UNKNOWN, anonymous, -1, and the event's own timestamp.
	e := conv(StreamRequest+":3.2.0", map[string]any{"properties": "not json"}).Event
	if e.APIName != "UNKNOWN" || e.UserName != "anonymous" || e.ResponseLatency != -1 || e.ProxyResponseCode != -1 ||
		!e.RequestTimestamp.Equal(t0.Add(time.Hour)) || e.Properties != nil {
		t.Errorf("null request: %+v", e)
	}

	for _, tc := range []struct {
		code       string
		typ, sub   string
		errorCode  int
		statusCode int
	}{
		{"900901", "AUTH", "AUTHENTICATION_FAILURE", 900901, 401},
		{"900910", "AUTH", "AUTHORIZATION_FAILURE", 900910, 403},
		{"900908", "AUTH", "SUBSCRIPTION_VALIDATION_FAILURE", 900908, 403},
		{"900906", "AUTH", "OTHER", 900906, 404},
		{"101504", "TARGET_CONNECTIVITY", "CONNECTION_TIMEOUT", 101504, 504},
		{"101503", "TARGET_CONNECTIVITY", "CONNECTION_SUSPENDED", 101503, 503},
		{"101505", "TARGET_CONNECTIVITY", "CONNECTION_SUSPENDED", 101505, 503},
		{"101508", "TARGET_CONNECTIVITY", "CONNECTION_TIMEOUT", 101508, 504},
		{"404", "OTHER", "RESOURCE_NOT_FOUND", 404, 404},
		{"0", "OTHER", "MEDIATION_ERROR", 0, 500},
		{"", "OTHER", "MEDIATION_ERROR", -1, 500},
	} {
		for _, v := range statVersions {
			vals := map[string]any{"apiName": "Pizza", "requestTimestamp": t0.UnixMilli(), "errorMessage": "text"}
			if tc.code != "" {
				vals["errorCode"] = tc.code
			}
			e := conv(StreamFault+":"+v, vals).Event
			if e.EventType != "fault" || e.ErrorType != tc.typ || e.ErrorMessage != tc.sub || e.ErrorCode != tc.errorCode ||
				e.ProxyResponseCode != tc.statusCode || e.APIName != "Pizza" || !e.RequestTimestamp.Equal(t0) {
				t.Errorf("fault %s %q: %+v", v, tc.code, e)
			}
		}
	}

	for _, tc := range []struct{ reason, sub string }{
		// Normalize cuts a throttled fault's sub-category to 30 characters
		// (REFERENCE §5), as it does for events posted over HTTP.
		{"APPLICATION_LIMIT_EXCEEDED", "APPLICATION_LEVEL_LIMIT_EXCEED"},
		{"REQUEST_BLOCKED", "BLOCKED"},
		{"BURST_CONTROL_LIMIT_EXCEEDED", "BURST_CONTROL_LIMIT_EXCEEDED"},
		{"SOMETHING_NEW_AND_QUITE_LONG_REASON_X", "SOMETHING_NEW_AND_QUITE_LONG_R"},
	} {
		for _, v := range statVersions {
			e := conv(StreamThrottle+":"+v, map[string]any{"apiName": "Pizza", "throttledOutReason": tc.reason, "throttledOutTimestamp": t0.UnixMilli()}).Event
			if !e.IsThrottled() || e.ErrorMessage != tc.sub || !e.RequestTimestamp.Equal(t0) || e.ProxyResponseCode < 400 {
				t.Errorf("throttle %s %s: %+v", v, tc.reason, e)
			}
		}
	}

	rec := conv("loganalyzer:1.0.0", map[string]any{"tenantID": "-1234", "class": "org.x.Handler", "content": "boom\nmore",
		"level": "error", "trace": "java.lang.X\n\tat y", "eventTimeStamp": t0.UnixMilli(), "ip": "10.1.1.1"}).Log
	want := apilens.LogRecord{Source: "10.1.1.1", Time: t0, Level: "ERROR", Logger: "org.x.Handler", Tenant: "-1234",
		Message: "boom", Content: "boom\nmore\njava.lang.X\n\tat y", Parsed: true}
	if rec == nil || *rec != want {
		t.Errorf("log record %+v, want %+v", rec, want)
	}
	if out := conv("org.wso2.apimgt.statistics.workflow:1.0.0", nil); !out.Ignored {
		t.Errorf("workflow event not ignored: %+v", out)
	}

	// Values of the wrong type or count are errors that name the attribute.
	ev := event(t, r, StreamRequest+":3.2.0", 0, map[string]any{"responseCode": int64(200)})
	if _, err := Convert(r.Lookup(ev.StreamID), &ev); err == nil || !contains(err.Error(), `"responseCode" is INT, got a int64`) {
		t.Errorf("wrong type: %v", err)
	}
	ev.Payload = ev.Payload[1:]
	if _, err := Convert(r.Lookup(ev.StreamID), &ev); err == nil || !contains(err.Error(), "36 payload values, the definition has 37") {
		t.Errorf("wrong count: %v", err)
	}
}

// diffEvents describes how two events differ, "" when they do not.
func diffEvents(got, want apilens.Event) string {
	if string(got.Properties) != string(want.Properties) {
		return "properties " + string(got.Properties) + ", want " + string(want.Properties)
	}
	got.Properties, want.Properties = nil, nil
	if !got.RequestTimestamp.Equal(want.RequestTimestamp) {
		return "time " + got.RequestTimestamp.String()
	}
	got.RequestTimestamp = want.RequestTimestamp
	if !reflect.DeepEqual(got, want) {
		return "\n got " + sprint(got) + "\nwant " + sprint(want)
	}
	return ""
}

func sprint(e apilens.Event) string { return fmt.Sprintf("%+v", e) }

func TestPublish(t *testing.T) {
	c, sink, logs, _ := newTestCore(t)
	ctx := context.Background()
	sid, _ := c.Login(ctx, "gw", "secret")
	r := c.Registry()
	evs := []Event{
		event(t, r, StreamRequest+":3.0.0", 0, requestValues(200)),
		event(t, r, StreamFault+":3.2.0", 0, map[string]any{"errorCode": "900901"}),
		event(t, r, StreamThrottle+":3.1.0", 0, map[string]any{"throttledOutReason": "API_LIMIT_EXCEEDED"}),
		event(t, r, "loganalyzer:1.0.0", 0, map[string]any{"content": "x"}),
		event(t, r, StreamWorkflow+":1.0.0", 0, nil),
	}
	if err := c.Publish(ctx, sid, evs); err != nil {
		t.Fatal(err)
	}
	if len(sink.events) != 3 || len(*logs) != 1 || sink.principals[0] != "gw" {
		t.Fatalf("%d events, %d records, principals %v", len(sink.events), len(*logs), sink.principals)
	}
	// One undefined stream refuses the whole batch.
	evs = append(evs, Event{StreamID: "nope:1.0.0"})
	if err := c.Publish(ctx, sid, evs); !errors.Is(err, ErrUndefinedStream) || !contains(err.Error(), "nope:1.0.0") {
		t.Errorf("undefined stream: %v", err)
	}
	if len(sink.events) != 3 {
		t.Errorf("part of a refused batch was kept: %d events", len(sink.events))
	}
	sink.err = apilens.Errorf(apilens.EUNAVAILABLE, "full")
	if err := c.Publish(ctx, sid, evs[:1]); apilens.ErrorCode(err) != apilens.EUNAVAILABLE {
		t.Errorf("sink failure: %v", err)
	}
}
