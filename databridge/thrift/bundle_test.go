package thrift

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	athrift "github.com/apache/thrift/lib/go/thrift"

	"github.com/apilens/apilens/databridge"
	"github.com/apilens/apilens/databridge/thrift/wire"
)

// allTypes is a stream with every attribute type in every section.
var allTypes = &databridge.StreamDef{
	Name: "test.all", Version: "1.0.0",
	Meta:        []databridge.Attribute{{Name: "m_int", Type: databridge.INT}, {Name: "m_str", Type: databridge.STRING}},
	Correlation: []databridge.Attribute{{Name: "c_float", Type: databridge.FLOAT}, {Name: "c_bool", Type: databridge.BOOL}},
	Payload: []databridge.Attribute{
		{Name: "p_int", Type: databridge.INT}, {Name: "p_long", Type: databridge.LONG},
		{Name: "p_float", Type: databridge.FLOAT}, {Name: "p_double", Type: databridge.DOUBLE},
		{Name: "p_bool", Type: databridge.BOOL}, {Name: "p_str", Type: databridge.STRING},
	},
}

// testRegistry has the built-in streams and allTypes.
func testRegistry(t testing.TB) *databridge.Registry {
	t.Helper()
	r := databridge.NewRegistry()
	if err := r.Define(allTypes); err != nil {
		t.Fatal(err)
	}
	return r
}

// testEvents are two events of allTypes, one with nulls and arbitrary data,
// and one of the built-in request stream.
func testEvents() []databridge.Event {
	return []databridge.Event{
		{
			StreamID: "test.all:1.0.0", Timestamp: 1_772_000_000_000,
			Meta:        []any{int32(-7), "meta ü"},
			Correlation: []any{float32(1.5), true},
			Payload:     []any{int32(math.MaxInt32), int64(math.MinInt64), float32(-0.25), 3.125e300, false, "payload"},
			Arbitrary:   map[string]string{"k": "v", "empty": ""},
		},
		{
			StreamID: "test.all:1.0.0", Timestamp: 1,
			Meta:        []any{int32(0), nil},
			Correlation: []any{float32(0), false},
			Payload:     []any{int32(1), int64(2), float32(3), 4.0, true, ""},
		},
		{
			StreamID: "org.wso2.apimgt.statistics.throttle:3.2.0", Timestamp: 2,
			Meta: []any{"producer"},
			Payload: []any{"carol", "carbon.super", "Pizza", "1.0", "/pizza/1.0", "bob", "carbon.super", "/menu",
				"GET", "7", "App", "alice", "SUBSCRIPTION_LIMIT_EXCEEDED", "SYNAPSE", int64(1_772_000_000_000), "gw1", nil},
		},
	}
}

func TestBundleRoundTrip(t *testing.T) {
	r := testRegistry(t)
	events := testEvents()
	b, err := EncodeBundle("sid-1", events, r)
	if err != nil {
		t.Fatal(err)
	}
	if b.GetSessionId() != "sid-1" || b.GetEventNum() != 3 {
		t.Fatalf("session %q, eventNum %d", b.GetSessionId(), b.GetEventNum())
	}
	// Through the wire format too, as a receiver gets it.
	var got wire.ThriftEventBundle
	if err := athrift.NewTDeserializer().Read(context.Background(), &got, serialize(t, b)); err != nil {
		t.Fatal(err)
	}
	dec, err := DecodeBundle(&got, r)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(dec, events) {
		t.Errorf("round trip:\n got %#v\nwant %#v", dec, events)
	}
}

// TestDecodeLayout decodes a bundle built by hand the way the WSO2 agent
// builds it, independently of EncodeBundle.
func TestDecodeLayout(t *testing.T) {
	r := testRegistry(t)
	b := &wire.ThriftEventBundle{
		SessionId: athrift.StringPtr("s"), EventNum: athrift.Int32Ptr(2),
		// Per event: the stream id first, then the STRING values in order.
		StringAttributeList: []string{"test.all:1.0.0", "a", "b", "test.all:1.0.0", "_null", "d"},
		// Per event: the timestamp first, then the LONG values.
		LongAttributeList:   []int64{100, 11, 200, 22},
		IntAttributeList:    []int32{1, 2, 3, 4},
		DoubleAttributeList: []float64{0.5, 1.5, 2.5, 10.5, 11.5, 12.5},
		BoolAttributeList:   []bool{true, false, false, true},
		ArbitraryDataMapMap: map[int32]map[string]string{1: {"x": "y"}},
	}
	got, err := DecodeBundle(b, r)
	if err != nil {
		t.Fatal(err)
	}
	want := []databridge.Event{
		{StreamID: "test.all:1.0.0", Timestamp: 100, Meta: []any{int32(1), "a"}, Correlation: []any{float32(0.5), true},
			Payload: []any{int32(2), int64(11), float32(1.5), 2.5, false, "b"}},
		{StreamID: "test.all:1.0.0", Timestamp: 200, Meta: []any{int32(3), nil}, Correlation: []any{float32(10.5), false},
			Payload: []any{int32(4), int64(22), float32(11.5), 12.5, true, "d"}, Arbitrary: map[string]string{"x": "y"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %#v\nwant %#v", got, want)
	}
}

// TestBundleWireFormat pins the field ids and types of ThriftEventBundle,
// which the agent's generated code must agree with, against bytes written
// by hand from the IDL of REFERENCE §1.
func TestBundleWireFormat(t *testing.T) {
	b := &wire.ThriftEventBundle{
		SessionId: athrift.StringPtr("s"), EventNum: athrift.Int32Ptr(1),
		IntAttributeList: []int32{5}, LongAttributeList: []int64{6}, DoubleAttributeList: []float64{0.5},
		BoolAttributeList: []bool{true}, StringAttributeList: []string{"a:1"},
		ArbitraryDataMapMap: map[int32]map[string]string{0: {"k": "v"}},
	}
	var w []byte
	field := func(typ byte, id int16) { w = append(append(w, typ), byte(id>>8), byte(id)) }
	i32 := func(v int32) { w = binary.BigEndian.AppendUint32(w, uint32(v)) }
	str := func(s string) { i32(int32(len(s))); w = append(w, s...) }
	const (
		tBool, tDouble, tI32, tI64, tString, tMap, tList = 2, 4, 8, 10, 11, 13, 15
	)
	field(tString, 1)
	str("s")
	field(tI32, 2)
	i32(1)
	field(tList, 3)
	w = append(w, tI32)
	i32(1)
	i32(5)
	field(tList, 4)
	w = append(w, tI64)
	i32(1)
	w = binary.BigEndian.AppendUint64(w, 6)
	field(tList, 5)
	w = append(w, tDouble)
	i32(1)
	w = binary.BigEndian.AppendUint64(w, math.Float64bits(0.5))
	field(tList, 6)
	w = append(w, tBool)
	i32(1)
	w = append(w, 1)
	field(tList, 7)
	w = append(w, tString)
	i32(1)
	str("a:1")
	field(tMap, 8)
	w = append(w, tI32, tMap)
	i32(1)
	i32(0)
	w = append(w, tString, tString)
	i32(1)
	str("k")
	str("v")
	w = append(w, 0) // stop
	if got := serialize(t, b); string(got) != string(w) {
		t.Errorf("serialized bundle\n got % x\nwant % x", got, w)
	}
}

func TestDecodeErrors(t *testing.T) {
	r := testRegistry(t)
	good, err := EncodeBundle("s", testEvents()[:1], r)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(b *wire.ThriftEventBundle)
		want   string
	}{
		{"more events than strings", func(b *wire.ThriftEventBundle) { b.EventNum = athrift.Int32Ptr(math.MaxInt32) },
			"event 1: string list ran out at the stream id"},
		{"negative eventNum", func(b *wire.ThriftEventBundle) { b.EventNum = athrift.Int32Ptr(-1) }, "negative eventNum -1"},
		{"no timestamp", func(b *wire.ThriftEventBundle) { b.LongAttributeList = nil }, "long list ran out at the timestamp (it has 0 values)"},
		{"short ints", func(b *wire.ThriftEventBundle) { b.IntAttributeList = b.IntAttributeList[:1] },
			`int list ran out at payload attribute "p_int" of test.all:1.0.0 (it has 1 values)`},
		{"short longs", func(b *wire.ThriftEventBundle) { b.LongAttributeList = b.LongAttributeList[:1] },
			`long list ran out at payload attribute "p_long"`},
		{"short doubles", func(b *wire.ThriftEventBundle) { b.DoubleAttributeList = nil },
			`double list ran out at correlation attribute "c_float"`},
		{"short bools", func(b *wire.ThriftEventBundle) { b.BoolAttributeList = b.BoolAttributeList[:1] },
			`bool list ran out at payload attribute "p_bool"`},
		{"short strings", func(b *wire.ThriftEventBundle) { b.StringAttributeList = b.StringAttributeList[:2] },
			`string list ran out at payload attribute "p_str"`},
		{"left over", func(b *wire.ThriftEventBundle) { b.BoolAttributeList = append(b.BoolAttributeList, true, false) },
			"2 bool values left over after the last event"},
		{"no events, values", func(b *wire.ThriftEventBundle) { b.EventNum = nil }, "string values left over"},
		{"undefined stream", func(b *wire.ThriftEventBundle) { b.StringAttributeList[0] = "nope:1.0.0" },
			`event 0: stream "nope:1.0.0" is not defined`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := cloneBundle(good)
			tc.change(b)
			events, err := DecodeBundle(b, r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, %v; want an error with %q", events, err, tc.want)
			}
			if undefined := errors.Is(err, databridge.ErrUndefinedStream); undefined != (tc.name == "undefined stream") {
				t.Errorf("errors.Is(err, ErrUndefinedStream) = %v: %v", undefined, err)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	r := testRegistry(t)
	for _, tc := range []struct {
		name   string
		change func(ev *databridge.Event)
		want   string
	}{
		{"wrong type", func(ev *databridge.Event) { ev.Payload[1] = 5 }, `event 0: payload attribute "p_long" of test.all:1.0.0: want a LONG value, got a int`},
		{"too few", func(ev *databridge.Event) { ev.Meta = ev.Meta[:1] }, "event 0: 1 meta values, stream test.all:1.0.0 has 2"},
		{"undefined", func(ev *databridge.Event) { ev.StreamID = "nope:1" }, `stream "nope:1" is not defined`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := testEvents()[0]
			tc.change(&ev)
			if _, err := EncodeBundle("s", []databridge.Event{ev}, r); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestEncodeNonStringNull: a null that is not a STRING has no marker on
// Thrift and travels as its type's zero value.
func TestEncodeNonStringNull(t *testing.T) {
	r := testRegistry(t)
	ev := testEvents()[1]
	ev.Meta[0], ev.Payload[1], ev.Payload[3], ev.Correlation[1] = nil, nil, nil, nil
	b, err := EncodeBundle("s", []databridge.Event{ev}, r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeBundle(b, r)
	if err != nil {
		t.Fatal(err)
	}
	want := testEvents()[1]
	want.Meta[0], want.Payload[1], want.Payload[3], want.Correlation[1] = int32(0), int64(0), 0.0, false
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("\n got %#v\nwant %#v", got[0], want)
	}
}

// FuzzDecodeBundle feeds arbitrary bytes through the library's binary
// protocol into DecodeBundle: it must never panic, and what it decodes must
// survive EncodeBundle and DecodeBundle unchanged.
func FuzzDecodeBundle(f *testing.F) {
	r := testRegistry(f)
	for i := range testEvents() {
		b, err := EncodeBundle("s", testEvents()[:i+1], r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(serialize(f, b))
	}
	f.Add([]byte{})
	cfg := &athrift.TConfiguration{MaxMessageSize: 1 << 16}
	f.Fuzz(func(t *testing.T, data []byte) {
		var b wire.ThriftEventBundle
		proto := athrift.NewTBinaryProtocolConf(athrift.NewStreamTransportR(strings.NewReader(string(data))), cfg)
		if err := b.Read(context.Background(), proto); err != nil {
			return
		}
		events, err := DecodeBundle(&b, r)
		if err != nil {
			return
		}
		again, err := EncodeBundle(b.GetSessionId(), events, r)
		if err != nil {
			t.Fatalf("re-encode %#v: %v", events, err)
		}
		events2, err := DecodeBundle(again, r)
		if err != nil {
			t.Fatalf("decode re-encoded: %v", err)
		}
		// %#v compares NaNs as equal, unlike reflect.DeepEqual.
		if a, b := fmt.Sprintf("%#v", events), fmt.Sprintf("%#v", events2); a != b {
			t.Fatalf("round trip changed the events:\n%s\n%s", a, b)
		}
	})
}

func serialize(t testing.TB, b *wire.ThriftEventBundle) []byte {
	t.Helper()
	data, err := athrift.NewTSerializer().Write(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func cloneBundle(b *wire.ThriftEventBundle) *wire.ThriftEventBundle {
	c := *b
	c.IntAttributeList = append([]int32(nil), b.IntAttributeList...)
	c.LongAttributeList = append([]int64(nil), b.LongAttributeList...)
	c.DoubleAttributeList = append([]float64(nil), b.DoubleAttributeList...)
	c.BoolAttributeList = append([]bool(nil), b.BoolAttributeList...)
	c.StringAttributeList = append([]string(nil), b.StringAttributeList...)
	return &c
}
