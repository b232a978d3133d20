package databridge

import (
	"context"
	"testing"
)

// nopSink acknowledges every batch at once, so that the benchmark measures
// the decoder alone.
type nopSink struct{}

func (nopSink) Submit(context.Context, string, string, []byte, int) (bool, error) { return false, nil }

// BenchmarkPublishBinary measures the server's decode path of a publish
// frame of 200 request events: decode, convert and encode for the
// pipeline, without the network and the spool.
func BenchmarkPublishBinary(b *testing.B) {
	r := NewRegistry()
	c := NewCore(CoreOptions{Auth: fakeAuth, Events: nopSink{}, Registry: r, Logger: discard})
	c.sessions[testSID] = &Session{ID: testSID, User: users["gw"], Expires: farFuture}
	evs := make([]Event, 200)
	for i := range evs {
		evs[i] = requestEvent(b, r)
	}
	frame, err := AppendPublishFrame(nil, testSID, r, evs)
	if err != nil {
		b.Fatal(err)
	}
	body := frame[5:]
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		if err := c.publishBinary(ctx, body, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
}
