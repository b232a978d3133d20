package apilens

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"time"
)

func randomEvent(rng *rand.Rand) Event {
	s := func() string {
		if rng.IntN(5) == 0 {
			return ""
		}
		return "v" + strconv.Itoa(rng.IntN(50)) + "-ünï"
	}
	e := Event{
		RequestTimestamp: time.Unix(0, rng.Int64N(4e18)).UTC(),
		CorrelationID:    s(), KeyType: s(), APIID: s(), APIType: s(), APIName: s(),
		APIVersion: s(), APICreator: s(), APIMethod: s(), APIContext: s(),
		APIResourceTemplate: s(), APICreatorTenantDomain: s(), Destination: s(),
		ApplicationID: s(), ApplicationName: s(), ApplicationOwner: s(), RegionID: s(),
		GatewayType: s(), UserName: s(), UserIP: s(), UserAgentHeader: s(),
		EventType: s(), ErrorType: s(), ErrorMessage: s(), Country: s(), City: s(),
		Browser: s(), OS: s(), Device: s(),
		ProxyResponseCode:        rng.IntN(600) - 1,
		TargetResponseCode:       rng.IntN(600) - 1,
		ErrorCode:                rng.IntN(1000000) - 1,
		ResponseLatency:          rng.Int64N(1e6) - 1,
		BackendLatency:           rng.Int64N(1e6) - 1,
		RequestMediationLatency:  -rng.Int64N(1e3),
		ResponseMediationLatency: rng.Int64N(1e3),
		ResponseCacheHit:         rng.IntN(2) == 0,
	}
	if rng.IntN(2) == 0 {
		e.Properties = json.RawMessage(`{"X-Forwarded-For":"203.0.113.7"}`)
	}
	return e
}

func TestBatchRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for n := range []int{0, 1, 2, 100} {
		b := Batch{Key: "alice\x00k" + strconv.Itoa(n)}
		for i := 0; i < n; i++ {
			b.Events = append(b.Events, randomEvent(rng))
		}
		var d Decoder
		var got Batch
		if err := d.DecodeBatch(AppendBatch(nil, &b), &got); err != nil {
			t.Fatal(err)
		}
		if len(b.Events) == 0 {
			b.Events = got.Events[:0]
		}
		if !reflect.DeepEqual(b, got) {
			t.Fatalf("round trip of %d events differs:\n%+v\n%+v", n, b, got)
		}
	}
}

func TestDecodeBatchRejectsDamage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	b := Batch{Key: "k", Events: []Event{randomEvent(rng), randomEvent(rng)}}
	enc := AppendBatch(nil, &b)
	var d Decoder
	var got Batch
	for cut := 0; cut < len(enc); cut++ {
		if err := d.DecodeBatch(enc[:cut], &got); err == nil {
			t.Fatalf("a batch cut at %d of %d bytes decoded", cut, len(enc))
		}
	}
	if err := d.DecodeBatch(append(enc, 0), &got); err == nil {
		t.Fatal("trailing bytes accepted")
	}
}

func FuzzDecodeBatch(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 3))
	f.Add(AppendBatch(nil, &Batch{Key: "k", Events: []Event{randomEvent(rng)}}))
	f.Add([]byte{1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoder
		var b Batch
		if err := d.DecodeBatch(data, &b); err != nil {
			return
		}
		// What decodes must encode back to the same bytes.
		if again := AppendBatch(nil, &b); string(again) != string(data) {
			var b2 Batch
			if err := d.DecodeBatch(again, &b2); err != nil || !reflect.DeepEqual(b, b2) {
				t.Fatalf("re-encoding changed the batch")
			}
		}
	})
}

func BenchmarkDecodeBatch(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	batch := Batch{Key: "k"}
	for i := 0; i < 500; i++ {
		batch.Events = append(batch.Events, randomEvent(rng))
	}
	enc := AppendBatch(nil, &batch)
	var d Decoder
	var got Batch
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if err := d.DecodeBatch(enc, &got); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*500), "ns/event")
}

func TestNormalize(t *testing.T) {
	e := Event{EventType: "bogus", APIMethod: "GETGETGETGETGETGETGETGET", ProxyResponseCode: 200}
	e.Normalize()
	if e.EventType != EventResponse || e.APIName != Unknown || e.UserName != Anonymous || len(e.APIMethod) != 20 {
		t.Fatalf("Normalize: %+v", e)
	}
	f := Event{EventType: EventFault, ErrorType: FaultThrottled, ErrorMessage: "APPLICATION_LEVEL_LIMIT_EXCEEDED_AND_MORE_TEXT"}
	f.Normalize()
	if len(f.ErrorMessage) != 30 {
		t.Fatalf("throttle reason not truncated to 30: %q", f.ErrorMessage)
	}
	if got := truncate("ééééé", 3); got != "ééé" {
		t.Fatalf("truncate split runes: %q", got)
	}
}
