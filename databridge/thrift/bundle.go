package thrift

import (
	"errors"
	"fmt"

	"github.com/apilens/apilens/databridge"
	"github.com/apilens/apilens/databridge/thrift/wire"
)

// nullString is how a null STRING travels in a bundle's string list: the
// Thrift structures cannot hold a null list element, so the WSO2 agent and
// receiver agree on this marker (EventDefinitionConverterUtils.nullString).
const nullString = "_null"

// UndefinedStreamError is returned by DecodeBundle for an event whose stream
// the definitions do not have; the receiver answers it with
// ThriftUndefinedEventTypeException, which makes the agent drop the batch.
type UndefinedStreamError struct {
	StreamID string
	Index    int // of the event in the bundle
}

func (e *UndefinedStreamError) Error() string {
	return fmt.Sprintf("event %d: stream %q is not defined", e.Index, e.StreamID)
}

// Unwrap returns databridge.ErrUndefinedStream.
func (e *UndefinedStreamError) Unwrap() error { return databridge.ErrUndefinedStream }

// cursor walks one of a bundle's value lists.
type cursor[T any] struct {
	name string
	list []T
	next int
}

// take returns the next value; ok is false when the list has run out.
func (c *cursor[T]) take() (v T, ok bool) {
	if c.next >= len(c.list) {
		return v, false
	}
	v = c.list[c.next]
	c.next++
	return v, true
}

// ranOut is the error for a list that has no value left for what.
func (c *cursor[T]) ranOut(event int, what string) error {
	return fmt.Errorf("event %d: %s list ran out at %s (it has %d values)", event, c.name, what, len(c.list))
}

// left reports an error when values remain unread.
func (c *cursor[T]) left() error {
	if n := len(c.list) - c.next; n > 0 {
		return fmt.Errorf("%d %s values left over after the last event", n, c.name)
	}
	return nil
}

// DecodeBundle turns a ThriftEventBundle into events, the way the WSO2
// receiver does (REFERENCE §1): per event the stream id comes from the
// string list and the timestamp from the long list, then each attribute of
// the stream's definition takes the next value of the list of its type
// (FLOAT from the double list, narrowed), meta first, then correlation, then
// payload; "_null" in the string list is a null STRING; arbitrary data is
// keyed by the event's index.
//
// Unlike the WSO2 receiver, a bundle whose lists are too short for its
// eventNum and definitions, or that has values left over, is an error
// rather than silently misaligned data: either means the sender encoded
// with different definitions. An event of an unknown stream is an
// *UndefinedStreamError.
func DecodeBundle(b *wire.ThriftEventBundle, defs databridge.StreamLookup) ([]databridge.Event, error) {
	n := int(b.GetEventNum())
	if n < 0 {
		return nil, fmt.Errorf("decode event bundle: negative eventNum %d", n)
	}
	var (
		ints    = cursor[int32]{name: "int", list: b.IntAttributeList}
		longs   = cursor[int64]{name: "long", list: b.LongAttributeList}
		doubles = cursor[float64]{name: "double", list: b.DoubleAttributeList}
		bools   = cursor[bool]{name: "bool", list: b.BoolAttributeList}
		strs    = cursor[string]{name: "string", list: b.StringAttributeList}
	)
	// Every event takes one string (its stream id), so the string list bounds
	// the allocation whatever eventNum claims.
	events := make([]databridge.Event, 0, min(n, len(strs.list)))
	for i := range n {
		id, ok := strs.take()
		if !ok {
			return nil, fmt.Errorf("decode event bundle of %d events: %w", n, strs.ranOut(i, "the stream id"))
		}
		ts, ok := longs.take()
		if !ok {
			return nil, fmt.Errorf("decode event bundle of %d events: %w", n, longs.ranOut(i, "the timestamp"))
		}
		def := defs.Lookup(id)
		if def == nil {
			return nil, &UndefinedStreamError{StreamID: id, Index: i}
		}
		ev := databridge.Event{StreamID: id, Timestamp: ts}
		for _, sec := range [...]struct {
			name  string
			attrs []databridge.Attribute
			out   *[]any
		}{{"meta", def.Meta, &ev.Meta}, {"correlation", def.Correlation, &ev.Correlation}, {"payload", def.Payload, &ev.Payload}} {
			if len(sec.attrs) == 0 {
				continue
			}
			vals := make([]any, len(sec.attrs))
			for j, a := range sec.attrs {
				var short interface{ ranOut(int, string) error }
				switch a.Type {
				case databridge.INT:
					if vals[j], ok = ints.take(); !ok {
						short = &ints
					}
				case databridge.LONG:
					if vals[j], ok = longs.take(); !ok {
						short = &longs
					}
				case databridge.FLOAT:
					var d float64
					if d, ok = doubles.take(); ok {
						vals[j] = float32(d)
					} else {
						short = &doubles
					}
				case databridge.DOUBLE:
					if vals[j], ok = doubles.take(); !ok {
						short = &doubles
					}
				case databridge.BOOL:
					if vals[j], ok = bools.take(); !ok {
						short = &bools
					}
				case databridge.STRING:
					var s string
					if s, ok = strs.take(); !ok {
						short = &strs
					} else if s != nullString {
						vals[j] = s
					}
				default:
					return nil, fmt.Errorf("decode event bundle of %d events: event %d: %s attribute %q of %s has no valid type (%v)", n, i, sec.name, a.Name, id, a.Type)
				}
				if short != nil {
					return nil, fmt.Errorf("decode event bundle of %d events: %w", n, short.ranOut(i, fmt.Sprintf("%s attribute %q of %s", sec.name, a.Name, id)))
				}
			}
			*sec.out = vals
		}
		if m, ok := b.ArbitraryDataMapMap[int32(i)]; ok && len(m) > 0 {
			ev.Arbitrary = m
		}
		events = append(events, ev)
	}
	if err := errors.Join(ints.left(), longs.left(), doubles.left(), bools.left(), strs.left()); err != nil {
		return nil, fmt.Errorf("decode event bundle of %d events: %w", n, err)
	}
	return events, nil
}

// EncodeBundle builds the ThriftEventBundle that carries events, the exact
// inverse of DecodeBundle: defs give each event's definition, and every
// value must have the Go type of its attribute (int32, int64, float32,
// float64, bool, string; see databridge.Event). A null STRING travels as
// "_null"; a null of another type cannot travel over Thrift and is sent as
// its zero value, as nothing else keeps the lists aligned.
func EncodeBundle(sessionID string, events []databridge.Event, defs databridge.StreamLookup) (*wire.ThriftEventBundle, error) {
	if len(events) > 1<<31-1 {
		return nil, fmt.Errorf("encode event bundle: %d events do not fit in eventNum", len(events))
	}
	n := int32(len(events))
	b := &wire.ThriftEventBundle{SessionId: &sessionID, EventNum: &n}
	for i, ev := range events {
		def := defs.Lookup(ev.StreamID)
		if def == nil {
			return nil, fmt.Errorf("encode event bundle: %w", &UndefinedStreamError{StreamID: ev.StreamID, Index: i})
		}
		b.StringAttributeList = append(b.StringAttributeList, ev.StreamID)
		b.LongAttributeList = append(b.LongAttributeList, ev.Timestamp)
		for _, sec := range [...]struct {
			name   string
			attrs  []databridge.Attribute
			values []any
		}{{"meta", def.Meta, ev.Meta}, {"correlation", def.Correlation, ev.Correlation}, {"payload", def.Payload, ev.Payload}} {
			if len(sec.values) != len(sec.attrs) {
				return nil, fmt.Errorf("encode event bundle: event %d: %d %s values, stream %s has %d", i, len(sec.values), sec.name, ev.StreamID, len(sec.attrs))
			}
			for j, a := range sec.attrs {
				if err := appendValue(b, a.Type, sec.values[j]); err != nil {
					return nil, fmt.Errorf("encode event bundle: event %d: %s attribute %q of %s: %w", i, sec.name, a.Name, ev.StreamID, err)
				}
			}
		}
		if len(ev.Arbitrary) > 0 {
			if b.ArbitraryDataMapMap == nil {
				b.ArbitraryDataMapMap = make(map[int32]map[string]string)
			}
			b.ArbitraryDataMapMap[int32(i)] = ev.Arbitrary
		}
	}
	return b, nil
}

// appendValue appends v, of attribute type t, to the list of its type.
func appendValue(b *wire.ThriftEventBundle, t databridge.AttrType, v any) error {
	ok := true
	switch t {
	case databridge.INT:
		var x int32
		if v != nil {
			x, ok = v.(int32)
		}
		b.IntAttributeList = append(b.IntAttributeList, x)
	case databridge.LONG:
		var x int64
		if v != nil {
			x, ok = v.(int64)
		}
		b.LongAttributeList = append(b.LongAttributeList, x)
	case databridge.FLOAT:
		var x float32
		if v != nil {
			x, ok = v.(float32)
		}
		b.DoubleAttributeList = append(b.DoubleAttributeList, float64(x))
	case databridge.DOUBLE:
		var x float64
		if v != nil {
			x, ok = v.(float64)
		}
		b.DoubleAttributeList = append(b.DoubleAttributeList, x)
	case databridge.BOOL:
		var x bool
		if v != nil {
			x, ok = v.(bool)
		}
		b.BoolAttributeList = append(b.BoolAttributeList, x)
	case databridge.STRING:
		x := nullString
		if v != nil {
			x, ok = v.(string)
		}
		b.StringAttributeList = append(b.StringAttributeList, x)
	default:
		return fmt.Errorf("no valid type (%v)", t)
	}
	if !ok {
		return fmt.Errorf("want a %s value, got a %T", t, v)
	}
	return nil
}
