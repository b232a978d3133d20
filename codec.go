package apilens

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"
	"unsafe"

	"github.com/klauspost/compress/s2"
)

// The batch codec is apilens's own compact binary form of events, used for
// spool records and raw-event batches. It is written by hand because it is
// the hot path between the receivers and the rollups: varints and
// length-prefixed strings, no reflection. Decoding copies the input once
// into one string and every decoded string is a view of it, so a batch
// costs one allocation however many strings it holds; whoever keeps a
// decoded string beyond the batch should strings.Clone it.
//
//	batch  = 1:u8 key:str count:uvarint event*
//	       | 2:u8 key:str count:uvarint s2(event*)
//	event  = timestamp:varint(unix ns) str×25 varint×7 flags:u8 str×3 properties:str
//	str    = len:uvarint bytes
//
// Version 2 compresses the events as one S2 block (github.com/klauspost/
// compress/s2): a batch of simulated traffic shrinks 3× at 200 events and
// 4× at 1,000, so the spool writes, holds in memory and replays a third of
// the bytes, and raw events are stored as the records are, compressed
// once by the receiver that encoded them. Version 1 is still read: it is
// what older spools and raw batches hold, and what a batch over
// maxBatchBytes is written as.
const (
	batchPlain      = 1
	batchCompressed = 2
	// maxBatchBytes bounds the events of a compressed batch, decompressed,
	// so that a corrupt length cannot make a reader allocate without bound.
	maxBatchBytes = 64 << 20
)

// Batch is a publisher's batch as it travels through the spool.
type Batch struct {
	// Key is the publisher-scoped idempotency key, "" when none was given.
	Key    string
	Events []Event
}

// AppendBatch appends the encoding of b to dst.
func AppendBatch(dst []byte, b *Batch) []byte {
	var events []byte
	for i := range b.Events {
		events = AppendEvent(events, &b.Events[i])
	}
	return AppendEncodedBatch(dst, b.Key, len(b.Events), events)
}

// AppendEncodedBatch appends a batch of n events that are already encoded,
// one after the other, by AppendEvent: receivers encode each event as they
// decode it, and never hold the batch as structs. It compresses them.
func AppendEncodedBatch(dst []byte, key string, n int, events []byte) []byte {
	if len(events) > maxBatchBytes {
		return append(appendBatchHeader(dst, batchPlain, key, n), events...)
	}
	dst = appendBatchHeader(dst, batchCompressed, key, n)
	room := s2.MaxEncodedLen(len(events))
	dst = slices.Grow(dst, room)
	block := s2.Encode(dst[len(dst):len(dst)+room], events)
	return dst[:len(dst)+len(block)]
}

func appendBatchHeader(dst []byte, version byte, key string, n int) []byte {
	dst = append(dst, version)
	dst = appendStr(dst, key)
	return binary.AppendUvarint(dst, uint64(n))
}

// AppendEvent appends the encoding of one event to dst.
func AppendEvent(dst []byte, e *Event) []byte {
	dst = binary.AppendVarint(dst, e.RequestTimestamp.UnixNano())
	for _, s := range [...]string{
		e.CorrelationID, e.KeyType, e.APIID, e.APIType, e.APIName, e.APIVersion,
		e.APICreator, e.APIMethod, e.APIContext, e.APIResourceTemplate,
		e.APICreatorTenantDomain, e.Destination, e.ApplicationID,
		e.ApplicationName, e.ApplicationOwner, e.RegionID, e.GatewayType,
		e.UserName, e.UserIP, e.UserAgentHeader, e.EventType, e.ErrorType,
		e.ErrorMessage, e.Country, e.City,
	} {
		dst = appendStr(dst, s)
	}
	for _, n := range [...]int64{
		int64(e.ProxyResponseCode), int64(e.TargetResponseCode), int64(e.ErrorCode),
		e.ResponseLatency, e.BackendLatency, e.RequestMediationLatency, e.ResponseMediationLatency,
	} {
		dst = binary.AppendVarint(dst, n)
	}
	var flags byte
	if e.ResponseCacheHit {
		flags |= 1
	}
	dst = append(dst, flags)
	dst = appendStr(dst, e.Browser)
	dst = appendStr(dst, e.OS)
	dst = appendStr(dst, e.Device)
	return appendStr(dst, string(e.Properties))
}

func appendStr(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// errCorrupt is wrapped by every decoding error.
var errCorrupt = errors.New("corrupt event batch")

// Decoder decodes batches. It is not safe for concurrent use; keep one per
// consumer.
type Decoder struct {
	// Alias makes decoded strings views of the input itself, without the
	// one copy, or, for a compressed batch, of a buffer that the Decoder
	// decompresses into and reuses at its next DecodeBatch: for a caller
	// that is done with one batch's events before it decodes the next and
	// does not modify the input meanwhile (the spool's records never are).
	Alias bool
	// scratch is the decompression buffer of an Alias decoder.
	scratch []byte
}

// DecodeBatch decodes a batch written by AppendBatch into b, reusing
// b.Events' storage.
func (d *Decoder) DecodeBatch(data []byte, b *Batch) error {
	r := reader{buf: data} // the header's strings are copies, unless aliased
	if d.Alias {
		r = d.reader(data)
	}
	v := r.byte()
	if v != batchPlain && v != batchCompressed {
		return fmt.Errorf("%w: unknown version %d", errCorrupt, v)
	}
	b.Key = r.str()
	n := r.uvarint()
	if r.err != nil {
		return r.err
	}
	if v == batchCompressed {
		events, err := d.decompress(r.buf)
		if err != nil {
			return err
		}
		// The events are a view of a buffer no one else holds: the one copy
		// a plain batch's strings cost is the decompression.
		if len(events) == 0 {
			r = reader{}
		} else {
			r = reader{buf: events, all: unsafe.String(&events[0], len(events))}
		}
	} else if !d.Alias {
		r = d.reader(r.buf)
	}
	// Each event takes at least 33 bytes, which bounds a hostile count.
	if n > uint64(len(r.buf))/33+1 {
		return fmt.Errorf("%w: %d events cannot fit in %d bytes", errCorrupt, n, len(r.buf))
	}
	b.Events = b.Events[:0]
	for i := uint64(0); i < n; i++ {
		b.Events = append(b.Events, Event{})
		r.event(&b.Events[len(b.Events)-1])
		if r.err != nil {
			return fmt.Errorf("event %d: %w", i, r.err)
		}
	}
	if len(r.buf) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(r.buf))
	}
	return nil
}

// decompress returns the events of a compressed batch: in the Decoder's
// scratch buffer if it aliases, else in a new one.
func (d *Decoder) decompress(block []byte) ([]byte, error) {
	size, err := s2.DecodedLen(block)
	if err != nil {
		return nil, fmt.Errorf("%w: events: %v", errCorrupt, err)
	}
	if size > maxBatchBytes {
		return nil, fmt.Errorf("%w: events of %d bytes, over the limit of %d", errCorrupt, size, maxBatchBytes)
	}
	var dst []byte
	if d.Alias {
		dst = d.scratch[:cap(d.scratch)]
	}
	events, err := s2.Decode(dst, block)
	if err != nil {
		return nil, fmt.Errorf("%w: events: %v", errCorrupt, err)
	}
	if d.Alias {
		d.scratch = events
	}
	return events, nil
}

type reader struct {
	buf []byte
	err error
	// all is the whole input as one string: decoded strings are views of
	// it, at offset len(all)-len(buf).
	all string
}

func (d *Decoder) reader(data []byte) reader {
	if d.Alias && len(data) > 0 {
		return reader{buf: data, all: unsafe.String(&data[0], len(data))}
	}
	return reader{buf: data, all: string(data)}
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: truncated %s", errCorrupt, what)
	}
	r.buf = nil
}

func (r *reader) byte() byte {
	if len(r.buf) < 1 {
		r.fail("byte")
		return 0
	}
	b := r.buf[0]
	r.buf = r.buf[1:]
	return b
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.buf)
	if n <= 0 {
		r.fail("uvarint")
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.buf)
	if n <= 0 {
		r.fail("varint")
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

// str reads a string, a view of the input when the reader has one.
func (r *reader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.buf)) {
		r.fail("string")
		return ""
	}
	var s string
	if r.all != "" {
		off := len(r.all) - len(r.buf)
		s = r.all[off : off+int(n)]
	} else {
		s = string(r.buf[:n])
	}
	r.buf = r.buf[n:]
	return s
}

func (r *reader) event(e *Event) {
	e.RequestTimestamp = time.Unix(0, r.varint()).UTC()
	for _, p := range [...]*string{
		&e.CorrelationID, &e.KeyType, &e.APIID, &e.APIType, &e.APIName, &e.APIVersion,
		&e.APICreator, &e.APIMethod, &e.APIContext, &e.APIResourceTemplate,
		&e.APICreatorTenantDomain, &e.Destination, &e.ApplicationID,
		&e.ApplicationName, &e.ApplicationOwner, &e.RegionID, &e.GatewayType,
		&e.UserName, &e.UserIP, &e.UserAgentHeader, &e.EventType, &e.ErrorType,
		&e.ErrorMessage, &e.Country, &e.City,
	} {
		*p = r.str()
	}
	e.ProxyResponseCode = int(r.varint())
	e.TargetResponseCode = int(r.varint())
	e.ErrorCode = int(r.varint())
	e.ResponseLatency = r.varint()
	e.BackendLatency = r.varint()
	e.RequestMediationLatency = r.varint()
	e.ResponseMediationLatency = r.varint()
	e.ResponseCacheHit = r.byte()&1 != 0
	e.Browser = r.str()
	e.OS = r.str()
	e.Device = r.str()
	if p := r.str(); p != "" {
		e.Properties = []byte(p)
	} else {
		e.Properties = nil
	}
}

// BatchKey returns the idempotency key of an encoded batch without
// decoding its events.
func BatchKey(data []byte) (string, error) {
	r := reader{buf: data}
	if v := r.byte(); v != batchPlain && v != batchCompressed {
		return "", fmt.Errorf("%w: unknown version %d", errCorrupt, v)
	}
	k := r.str()
	return k, r.err
}
