package apilens

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
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
	for _, n := range []int{0, 1, 2, 100} {
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

// plainBatch is b in the uncompressed form of version 1.
func plainBatch(b *Batch) []byte {
	dst := appendBatchHeader(nil, batchPlain, b.Key, len(b.Events))
	for i := range b.Events {
		dst = AppendEvent(dst, &b.Events[i])
	}
	return dst
}

// TestBatchForms checks that both forms decode to the same events, with
// and without Alias, that the compressed one is the smaller for traffic
// that repeats itself, and that an aliasing Decoder's events stay intact
// until its next batch.
func TestBatchForms(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	b := Batch{Key: "k"}
	for range 200 {
		b.Events = append(b.Events, randomEvent(rng))
	}
	b.Events[0].APIName = "orders-api"
	plain, compressed := plainBatch(&b), AppendBatch(nil, &b)
	if compressed[0] != batchCompressed || len(compressed) >= len(plain)/2 {
		t.Errorf("compressed batch: version %d, %d bytes for %d plain", compressed[0], len(compressed), len(plain))
	}
	for _, alias := range []bool{false, true} {
		d := Decoder{Alias: alias}
		for name, enc := range map[string][]byte{"plain": plain, "compressed": compressed} {
			var got Batch
			if err := d.DecodeBatch(enc, &got); err != nil {
				t.Fatalf("%s, alias %v: %v", name, alias, err)
			}
			if !reflect.DeepEqual(b, got) {
				t.Errorf("%s, alias %v: decoded events differ", name, alias)
			}
		}
	}
	// Two batches through one aliasing Decoder: the first batch's strings
	// are views of the scratch buffer, which the second overwrites; a copy
	// taken before the second call is what the caller keeps.
	d := Decoder{Alias: true}
	var first, second Batch
	if err := d.DecodeBatch(compressed, &first); err != nil {
		t.Fatal(err)
	}
	kept, want := strings.Clone(first.Events[0].APIName), b.Events[0].APIName
	other := b
	other.Events = append([]Event(nil), b.Events...)
	other.Events[0].APIName = strings.Repeat("x", len(want)) // the same size: the buffer is reused
	if err := d.DecodeBatch(AppendBatch(nil, &other), &second); err != nil {
		t.Fatal(err)
	}
	if kept != want || !reflect.DeepEqual(other, second) {
		t.Errorf("kept %q (want %q), second batch differs: %v", kept, want, second.Events[0].APIName)
	}
	if first.Events[0].APIName != second.Events[0].APIName {
		t.Errorf("the first batch's strings are not views of the reused buffer: %q", first.Events[0].APIName)
	}
}

func TestDecodeBatchRejectsBadBlock(t *testing.T) {
	enc := appendBatchHeader(nil, batchCompressed, "", 1)
	for name, block := range map[string][]byte{
		"no block":      nil,
		"bad length":    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"over limit":    binary.AppendUvarint(nil, maxBatchBytes+1),
		"corrupt block": {40, 0x01, 0x02},
	} {
		var d Decoder
		var got Batch
		err := d.DecodeBatch(append(enc[:len(enc):len(enc)], block...), &got)
		if err == nil || !errors.Is(err, errCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzDecodeBatch(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 3))
	f.Add(AppendBatch(nil, &Batch{Key: "k", Events: []Event{randomEvent(rng)}}))
	f.Add(plainBatch(&Batch{Key: "k", Events: []Event{randomEvent(rng), randomEvent(rng)}}))
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
