package simulate

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/apilens/apilens"
)

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

func TestAppendNDJSONRoundTripGenerated(t *testing.T) {
	g := NewGenerator(Options{Seed: 5})
	var e apilens.Event
	for i := range 20_000 {
		g.Next(&e, t0.Add(time.Duration(i)*1234567*time.Microsecond))
		got, line := roundTrip(t, &e)
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("round trip changed the event\n in: %+v\nout: %+v\njson: %s", e, got, line)
		}
	}
}

func BenchmarkAppendNDJSON(b *testing.B) {
	g := NewGenerator(Options{Seed: 1, APIs: 100, Applications: 1000})
	evs := make([]apilens.Event, 1024)
	size := 0
	for i := range evs {
		g.Next(&evs[i], t0.Add(time.Duration(i)*time.Second))
		size += len(AppendNDJSON(nil, &evs[i]))
	}
	b.SetBytes(int64(size / len(evs)))
	b.ReportAllocs()
	buf := make([]byte, 0, 4096)
	for i := 0; b.Loop(); i++ {
		buf = AppendNDJSON(buf[:0], &evs[i%len(evs)])
	}
}

// BenchmarkEncodingJSON is the yardstick AppendNDJSON is measured against.
func BenchmarkEncodingJSON(b *testing.B) {
	g := NewGenerator(Options{Seed: 1, APIs: 100, Applications: 1000})
	evs := make([]apilens.Event, 1024)
	for i := range evs {
		g.Next(&evs[i], t0.Add(time.Duration(i)*time.Second))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := json.Marshal(&evs[i%len(evs)]); err != nil {
			b.Fatal(err)
		}
	}
}
