package ingest

import (
	"encoding/binary"
	"reflect"
	"testing"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/simulate"
	"github.com/klauspost/compress/s2"
)

// simulated returns n normalized events of simulated traffic.
func simulated(n int) []apilens.Event {
	g := simulate.NewGenerator(simulate.Options{Seed: 11})
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	evs := make([]apilens.Event, n)
	for i := range evs {
		g.Next(&evs[i], t0.Add(time.Duration(i)*time.Second))
		evs[i].Normalize()
	}
	return evs
}

func decodeAll(t *testing.T, rb *apilens.RawBatch) []apilens.Event {
	t.Helper()
	var got []apilens.Event
	if err := DecodeRaw(rb, func(e *apilens.Event) error {
		got = append(got, *e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestRawBatchKeepsRecords checks that a raw batch holds the log records
// as the receivers compressed them and gives back every event.
func TestRawBatchKeepsRecords(t *testing.T) {
	evs := simulated(300)
	var b rawBuilder
	var records int
	for _, part := range [][]apilens.Event{evs[:100], evs[100:250], evs[250:]} {
		rec := apilens.AppendBatch(nil, &apilens.Batch{Key: "k", Events: part})
		b.add(rec)
		records += len(rec)
		for i := range part {
			b.span(part[i].RequestTimestamp)
		}
	}
	rb, ok := b.cut()
	if !ok {
		t.Fatal("no batch cut")
	}
	if rb.Count != len(evs) || !rb.MinTime.Equal(evs[0].RequestTimestamp) || !rb.MaxTime.Equal(evs[len(evs)-1].RequestTimestamp) {
		t.Errorf("batch says %d events from %v to %v", rb.Count, rb.MinTime, rb.MaxTime)
	}
	// The records, a zero byte and a length prefix each: nothing compressed twice.
	if len(rb.Data) > records+1+3*3 {
		t.Errorf("raw batch is %d bytes for %d bytes of records", len(rb.Data), records)
	}
	if got := decodeAll(t, &rb); !reflect.DeepEqual(got, evs) {
		t.Errorf("decoded %d events, not the %d added", len(got), len(evs))
	}
	if _, ok := b.cut(); ok {
		t.Error("a second cut without events made a batch")
	}
}

// TestRawBatchOlderForm checks that raw batches written before the records
// were compressed, uncompressed records under one S2 block, still decode.
func TestRawBatchOlderForm(t *testing.T) {
	evs := simulated(50)
	var buf []byte
	for _, part := range [][]apilens.Event{evs[:20], evs[20:]} {
		rec := []byte{1, 0} // version 1, no key
		rec = binary.AppendUvarint(rec, uint64(len(part)))
		for i := range part {
			rec = apilens.AppendEvent(rec, &part[i])
		}
		buf = binary.AppendUvarint(buf, uint64(len(rec)))
		buf = append(buf, rec...)
	}
	rb := apilens.RawBatch{ID: 7, Count: len(evs), Data: s2.Encode(nil, buf)}
	if got := decodeAll(t, &rb); !reflect.DeepEqual(got, evs) {
		t.Errorf("decoded %d events, not the %d written", len(got), len(evs))
	}
	rb.Data = rb.Data[:len(rb.Data)/2]
	if err := DecodeRaw(&rb, func(*apilens.Event) error { return nil }); err == nil {
		t.Error("a truncated raw batch decoded without an error")
	}
}

// TestSlotReleasesLargeBatches checks that a read-ahead slot keeps the room
// of an ordinary batch for the next one, and not that of a rare large one.
func TestSlotReleasesLargeBatches(t *testing.T) {
	for _, n := range []int{200, maxKeptEvents + 1} {
		evs := simulated(n)
		d := &decoded{dec: apilens.Decoder{Alias: true}}
		d.data = apilens.AppendBatch(nil, &apilens.Batch{Events: evs})
		if err := d.dec.DecodeBatch(d.data, &d.batch); err != nil {
			t.Fatal(err)
		}
		d.release()
		kept := cap(d.batch.Events) >= n
		if d.data != nil || kept != (n <= maxKeptEvents) {
			t.Errorf("%d events: record kept %v, room for the events kept %v", n, d.data != nil, kept)
		}
	}
}
