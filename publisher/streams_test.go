package publisher

import (
	"reflect"
	"testing"

	"github.com/apilens/apilens/databridge"
)

// TestConvertInverse: an event converted to its 3.x stream and back by
// the receiver's databridge.Convert keeps every field a 3.x stream
// carries.
func TestConvertInverse(t *testing.T) {
	s, err := newStreams()
	if err != nil {
		t.Fatal(err)
	}
	for n := range 10 {
		in := testEvent(n)
		var ev databridge.Event
		s.convert(&in, &ev)
		def := s.Lookup(ev.StreamID)
		if def == nil {
			t.Fatalf("event %d: no definition of %s", n, ev.StreamID)
		}
		conv, err := databridge.Convert(def, &ev)
		if err != nil {
			t.Fatalf("event %d: %v", n, err)
		}
		got := conv.Event
		want := in
		want.Normalize()
		// What no 3.x stream carries comes back as the receiver fills
		// it in; the rest must be as it was.
		want.CorrelationID, want.KeyType, want.APIID, want.APIType, want.RegionID = got.CorrelationID, got.KeyType, got.APIID, got.APIType, got.RegionID
		want.TargetResponseCode = got.TargetResponseCode
		if in.IsFault() {
			// The receiver knows a fault's latencies and destination from
			// nowhere, nor its user agent and client address.
			want.ResponseLatency, want.BackendLatency = got.ResponseLatency, got.BackendLatency
			want.RequestMediationLatency, want.ResponseMediationLatency = got.RequestMediationLatency, got.ResponseMediationLatency
			want.Destination, want.UserIP, want.UserAgentHeader = got.Destination, got.UserIP, got.UserAgentHeader
			if !in.IsThrottled() {
				want.GatewayType = got.GatewayType // the fault stream has none
			}
		} else if got.ErrorCode != -1 {
			t.Errorf("event %d: a response came back with error code %d, want -1", n, got.ErrorCode)
		} else {
			want.ErrorCode = -1
		}
		if in.IsThrottled() {
			want.ApplicationOwner = got.ApplicationOwner
		}
		if string(got.Properties) != string(want.Properties) {
			t.Errorf("event %d: properties %s, want %s", n, got.Properties, want.Properties)
		}
		got.Properties, want.Properties = nil, nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("event %d via %s:\n got %+v\nwant %+v", n, ev.StreamID, got, want)
		}
	}
}

func TestThrottleReason(t *testing.T) {
	if got := throttleReason("BLOCKED"); got != "REQUEST_BLOCKED" {
		t.Errorf("BLOCKED → %q", got)
	}
	if got := throttleReason("SOMETHING_NEW"); got != "SOMETHING_NEW" {
		t.Errorf("an unknown sub-category → %q, want it as it is", got)
	}
}
