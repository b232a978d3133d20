package apilens

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unsafe"
)

// The batch codec is apilens's own compact binary form of events, used for
// spool records and raw-event batches. It is written by hand because it is
// the hot path between the receivers and the rollups: varints and
// length-prefixed strings, no reflection. Decoding copies the input once
// into one string and every decoded string is a view of it, so a batch
// costs one allocation however many strings it holds; whoever keeps a
// decoded string beyond the batch should strings.Clone it.
//
//	batch  = version:u8 key:str count:uvarint event*
//	event  = timestamp:varint(unix ns) str×25 varint×7 flags:u8 str×3 properties:str
//	str    = len:uvarint bytes
const batchVersion = 1

// Batch is a publisher's batch as it travels through the spool.
type Batch struct {
	// Key is the publisher-scoped idempotency key, "" when none was given.
	Key    string
	Events []Event
}

// AppendBatch appends the encoding of b to dst.
func AppendBatch(dst []byte, b *Batch) []byte {
	dst = appendBatchHeader(dst, b.Key, len(b.Events))
	for i := range b.Events {
		dst = AppendEvent(dst, &b.Events[i])
	}
	return dst
}

// AppendEncodedBatch appends a batch of n events that are already encoded,
// one after the other, by AppendEvent: receivers encode each event as they
// decode it, and never hold the batch as structs.
func AppendEncodedBatch(dst []byte, key string, n int, events []byte) []byte {
	return append(appendBatchHeader(dst, key, n), events...)
}

func appendBatchHeader(dst []byte, key string, n int) []byte {
	dst = append(dst, batchVersion)
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
	// one copy: for input that is not modified while the decoded events
	// are in use (the spool's records never are).
	Alias bool
}

// DecodeBatch decodes a batch written by AppendBatch into b, reusing
// b.Events' storage.
func (d *Decoder) DecodeBatch(data []byte, b *Batch) error {
	r := d.reader(data)
	if v := r.byte(); v != batchVersion {
		return fmt.Errorf("%w: unknown version %d", errCorrupt, v)
	}
	b.Key = r.str()
	n := r.uvarint()
	if r.err != nil {
		return r.err
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
	if v := r.byte(); v != batchVersion {
		return "", fmt.Errorf("%w: unknown version %d", errCorrupt, v)
	}
	k := r.str()
	return k, r.err
}
