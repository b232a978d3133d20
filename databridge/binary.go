package databridge

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"unsafe"
)

// The binary transport's frames (REFERENCE §1). A client frame is
// type:u8, length:i32, body; every integer is big-endian.

// FrameType is the type byte of a client frame.
type FrameType byte

// The client frames.
const (
	FrameLogin   FrameType = 0 // userLen:i32 passLen:i32 user password
	FrameLogout  FrameType = 1 // sidLen:i32 sid
	FramePublish FrameType = 2 // sidLen:i32 sid count:i32 event*
)

// String names the frame type, for errors.
func (t FrameType) String() string {
	switch t {
	case FrameLogin:
		return "login"
	case FrameLogout:
		return "logout"
	case FramePublish:
		return "publish"
	}
	return fmt.Sprintf("frame type %d", byte(t))
}

// The first byte of a server response. Responses carry no length.
const (
	ResponseOK      byte = 0x00 // after publish or logout
	ResponseError   byte = 0x01 // classLen:i32 msgLen:i32 class message
	ResponseLoginOK byte = 0x02 // sidLen:i32 sid
)

// The Java exception classes an error response names; the agent re-creates
// the exception by name and acts on it (REFERENCE §1).
const (
	// ClassSessionTimeout makes the agent log in again and retry once.
	ClassSessionTimeout = "org.wso2.carbon.databridge.commons.exception.SessionTimeoutException"
	// ClassUndefinedEventType makes the agent drop the batch.
	ClassUndefinedEventType = "org.wso2.carbon.databridge.commons.exception.UndefinedEventTypeException"
	// ClassAuthentication on login marks the endpoint unavailable until the
	// next reconnect.
	ClassAuthentication = "org.wso2.carbon.databridge.commons.exception.AuthenticationException"
	// ClassDataBridge is every other failure (a bad frame, a full buffer):
	// the agent deactivates the endpoint and re-routes the batch.
	ClassDataBridge = "org.wso2.carbon.databridge.core.exception.DataBridgeException"
)

// ErrorClass returns the exception class an error response names for err.
func ErrorClass(err error) string {
	switch {
	case errors.Is(err, ErrSessionExpired):
		return ClassSessionTimeout
	case errors.Is(err, ErrUndefinedStream):
		return ClassUndefinedEventType
	case errors.Is(err, ErrAuthentication):
		return ClassAuthentication
	}
	return ClassDataBridge
}

// Limits bound what a decoder accepts from a client. Zero values mean the
// defaults.
type Limits struct {
	// MaxFrameBytes bounds a frame's body; default 16 MiB (a batch of 200
	// events is about 200 KiB).
	MaxFrameBytes int
	// MaxEvents bounds the events of one publish frame; default 100,000.
	MaxEvents int
}

func (l Limits) withDefaults() Limits {
	if l.MaxFrameBytes <= 0 {
		l.MaxFrameBytes = 16 << 20
	}
	if l.MaxEvents <= 0 {
		l.MaxEvents = 100_000
	}
	return l
}

// errFrame is wrapped by every error about a malformed frame.
var errFrame = errors.New("malformed frame")

// StreamLookup finds stream definitions by id (name:version): a *Registry.
type StreamLookup interface {
	Lookup(id string) *StreamDef
}

var _ StreamLookup = (*Registry)(nil)

// ---- client side: encoders of frames, reader of responses ----

func appendI32(dst []byte, n int) []byte { return binary.BigEndian.AppendUint32(dst, uint32(int32(n))) }

func appendStr(dst []byte, s string) []byte { return append(appendI32(dst, len(s)), s...) }

// beginFrame appends a frame header whose length frameEnd fills in.
func beginFrame(dst []byte, t FrameType) ([]byte, int) {
	dst = append(dst, byte(t), 0, 0, 0, 0)
	return dst, len(dst)
}

func endFrame(dst []byte, start int) []byte {
	binary.BigEndian.PutUint32(dst[start-4:start], uint32(len(dst)-start))
	return dst
}

// AppendLoginFrame appends a login frame.
func AppendLoginFrame(dst []byte, user, password string) []byte {
	dst, start := beginFrame(dst, FrameLogin)
	dst = appendI32(dst, len(user))
	dst = appendI32(dst, len(password))
	dst = append(dst, user...)
	dst = append(dst, password...)
	return endFrame(dst, start)
}

// AppendLogoutFrame appends a logout frame.
func AppendLogoutFrame(dst []byte, sessionID string) []byte {
	dst, start := beginFrame(dst, FrameLogout)
	return endFrame(appendStr(dst, sessionID), start)
}

// AppendPublishFrame appends a publish frame of events, their values
// written as defs' definitions of their streams say. A nil value is
// written as the agent writes it, an i32 0 whatever the type (which only a
// STRING or INT reads back as it was meant). The arbitrary map is written
// in key order, so a frame's bytes are reproducible. On error dst is
// returned as it was given.
func AppendPublishFrame(dst []byte, sessionID string, defs StreamLookup, events []Event) ([]byte, error) {
	orig := len(dst)
	dst, start := beginFrame(dst, FramePublish)
	dst = appendStr(dst, sessionID)
	dst = appendI32(dst, len(events))
	for i := range events {
		var err error
		if dst, err = appendEvent(dst, defs, &events[i]); err != nil {
			return dst[:orig], fmt.Errorf("event %d: %w", i, err)
		}
	}
	return endFrame(dst, start), nil
}

func appendEvent(dst []byte, defs StreamLookup, ev *Event) ([]byte, error) {
	def := defs.Lookup(ev.StreamID)
	if def == nil {
		return dst, fmt.Errorf("%w: no definition of stream %q", ErrUndefinedStream, ev.StreamID)
	}
	sizeAt := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint64(dst, uint64(ev.Timestamp))
	dst = appendStr(dst, ev.StreamID)
	for _, s := range [...]struct {
		name   string
		attrs  []Attribute
		values []any
	}{{"meta", def.Meta, ev.Meta}, {"correlation", def.Correlation, ev.Correlation}, {"payload", def.Payload, ev.Payload}} {
		if len(s.values) != len(s.attrs) {
			return dst, fmt.Errorf("stream %s: %d %s values, the definition has %d", def.ID(), len(s.values), s.name, len(s.attrs))
		}
		for j, a := range s.attrs {
			var ok bool
			if dst, ok = appendValue(dst, a.Type, s.values[j]); !ok {
				return dst, fmt.Errorf("stream %s: %s attribute %q is %s, got a %T", def.ID(), s.name, a.Name, a.Type, s.values[j])
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(ev.Arbitrary)) {
		dst = appendStr(appendStr(dst, k), ev.Arbitrary[k])
	}
	binary.BigEndian.PutUint32(dst[sizeAt:], uint32(len(dst)-sizeAt-4))
	return dst, nil
}

func appendValue(dst []byte, t AttrType, v any) ([]byte, bool) {
	if v == nil {
		return appendI32(dst, 0), true
	}
	switch t {
	case INT:
		if x, ok := v.(int32); ok {
			return binary.BigEndian.AppendUint32(dst, uint32(x)), true
		}
	case LONG:
		if x, ok := v.(int64); ok {
			return binary.BigEndian.AppendUint64(dst, uint64(x)), true
		}
	case FLOAT:
		if x, ok := v.(float32); ok {
			return binary.BigEndian.AppendUint32(dst, math.Float32bits(x)), true
		}
	case DOUBLE:
		if x, ok := v.(float64); ok {
			return binary.BigEndian.AppendUint64(dst, math.Float64bits(x)), true
		}
	case BOOL:
		if x, ok := v.(bool); ok {
			if x {
				return append(dst, 1), true
			}
			return append(dst, 0), true
		}
	case STRING:
		if x, ok := v.(string); ok {
			return appendStr(dst, x), true
		}
	}
	return dst, false
}

// Response is a server's answer to one frame.
type Response struct {
	Type      byte   // ResponseOK, ResponseError or ResponseLoginOK
	SessionID string // of ResponseLoginOK
	Class     string // of ResponseError: the Java exception class
	Message   string // of ResponseError
}

// Err returns nil for an OK or login response, else a *RemoteError.
func (r *Response) Err() error {
	if r.Type == ResponseError {
		return &RemoteError{Class: r.Class, Message: r.Message}
	}
	return nil
}

// RemoteError is an error response. It unwraps to ErrSessionExpired,
// ErrUndefinedStream or ErrAuthentication when it names their exception
// class, so a client tests it with errors.Is as the server does.
type RemoteError struct {
	Class, Message string
}

// Error returns the class and the message.
func (e *RemoteError) Error() string { return e.Class + ": " + e.Message }

// Unwrap returns the Core error kind of the exception class, or nil.
func (e *RemoteError) Unwrap() error {
	switch e.Class {
	case ClassSessionTimeout:
		return ErrSessionExpired
	case ClassUndefinedEventType:
		return ErrUndefinedStream
	case ClassAuthentication:
		return ErrAuthentication
	}
	return nil
}

// maxResponseString bounds the strings of a response a client reads.
const maxResponseString = 1 << 20

// ReadResponse reads one response from r.
func ReadResponse(r io.Reader) (*Response, error) {
	var b [8]byte
	if _, err := io.ReadFull(r, b[:1]); err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	resp := &Response{Type: b[0]}
	readStr := func(n uint32, what string) (string, error) {
		if n > maxResponseString {
			return "", fmt.Errorf("read response: %s of %d bytes is too long", what, n)
		}
		s := make([]byte, n)
		if _, err := io.ReadFull(r, s); err != nil {
			return "", fmt.Errorf("read response %s: %w", what, err)
		}
		return string(s), nil
	}
	var err error
	switch resp.Type {
	case ResponseOK:
	case ResponseLoginOK:
		if _, err = io.ReadFull(r, b[:4]); err != nil {
			return nil, fmt.Errorf("read response: %w", err)
		}
		resp.SessionID, err = readStr(binary.BigEndian.Uint32(b[:4]), "session id")
	case ResponseError:
		if _, err = io.ReadFull(r, b[:8]); err != nil {
			return nil, fmt.Errorf("read response: %w", err)
		}
		if resp.Class, err = readStr(binary.BigEndian.Uint32(b[:4]), "class name"); err == nil {
			resp.Message, err = readStr(binary.BigEndian.Uint32(b[4:8]), "message")
		}
	default:
		return nil, fmt.Errorf("read response: unknown response type 0x%02x", resp.Type)
	}
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// ---- server side: responses, frame decoding ----

// AppendOKResponse appends the OK response.
func AppendOKResponse(dst []byte) []byte { return append(dst, ResponseOK) }

// AppendLoginResponse appends the response of a successful login.
func AppendLoginResponse(dst []byte, sessionID string) []byte {
	return appendStr(append(dst, ResponseLoginOK), sessionID)
}

// AppendErrorResponse appends an error response naming a Java exception
// class.
func AppendErrorResponse(dst []byte, class, message string) []byte {
	dst = append(dst, ResponseError)
	dst = appendI32(dst, len(class))
	dst = appendI32(dst, len(message))
	dst = append(dst, class...)
	return append(dst, message...)
}

// Frame is a decoded client frame.
type Frame struct {
	Type           FrameType
	User, Password string  // login
	SessionID      string  // logout and publish
	Events         []Event // publish
}

// DecodeFrame decodes one whole client frame (type, length and body), with
// the events' values typed by defs. The strings of the result are copies:
// data may be reused. An event of a stream defs does not know fails with
// an error wrapping ErrUndefinedStream; anything malformed with an error
// that says what and where.
func DecodeFrame(data []byte, defs StreamLookup, lim Limits) (*Frame, error) {
	lim = lim.withDefaults()
	if len(data) < 5 {
		return nil, fmt.Errorf("%w: %d bytes, a frame header is 5", errFrame, len(data))
	}
	t, n := FrameType(data[0]), int32(binary.BigEndian.Uint32(data[1:5]))
	if err := checkFrameHeader(t, n, lim); err != nil {
		return nil, err
	}
	if int(n) != len(data)-5 {
		return nil, fmt.Errorf("%w: %s frame says %d body bytes, has %d", errFrame, t, n, len(data)-5)
	}
	r := newFrameReader(data[5:], false)
	f := &Frame{Type: t}
	switch t {
	case FrameLogin:
		f.User, f.Password = r.login()
	case FrameLogout:
		f.SessionID = r.str("session id")
	case FramePublish:
		f.SessionID = r.str("session id")
		count := r.count(lim)
		var vals []value
		for i := 0; i < count && r.err == nil; i++ {
			var ev Event
			var def *StreamDef
			var arb frameReader
			def, vals, arb = r.event(defs, vals[:0], &ev.Timestamp, &ev.StreamID, nil)
			if r.err != nil {
				return nil, fmt.Errorf("event %d: %w", i, r.err)
			}
			ev.Meta, ev.Correlation, ev.Payload = boxed(vals[:len(def.Meta)]),
				boxed(vals[len(def.Meta):len(def.Meta)+len(def.Correlation)]), boxed(vals[len(def.Meta)+len(def.Correlation):])
			if ev.Arbitrary, r.err = arb.arbitrary(); r.err != nil {
				return nil, fmt.Errorf("event %d (%s): %w", i, ev.StreamID, r.err)
			}
			f.Events = append(f.Events, ev)
		}
	}
	if r.err == nil && len(r.buf) != 0 {
		r.err = fmt.Errorf("%w: %d bytes after the %s frame's content", errFrame, len(r.buf), t)
	}
	if r.err != nil {
		return nil, r.err
	}
	return f, nil
}

// checkFrameHeader checks a frame's type and body length.
func checkFrameHeader(t FrameType, n int32, lim Limits) error {
	if t > FramePublish {
		return fmt.Errorf("%w: unknown frame type %d (want 0 login, 1 logout or 2 publish)", errFrame, byte(t))
	}
	if n < 0 || int(n) > lim.MaxFrameBytes {
		return fmt.Errorf("%w: %s frame of %d bytes (the limit is %d)", errFrame, t, n, lim.MaxFrameBytes)
	}
	return nil
}

// value is one decoded attribute value, unboxed so that decoding a frame
// allocates nothing per value.
type value struct {
	s    string
	n    int64
	f    float64
	t    AttrType
	null bool
}

func boxed(vals []value) []any {
	if len(vals) == 0 {
		return nil
	}
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v.any()
	}
	return out
}

func (v *value) any() any {
	if v.null {
		return nil
	}
	switch v.t {
	case INT:
		return int32(v.n)
	case LONG:
		return v.n
	case FLOAT:
		return float32(v.f)
	case DOUBLE:
		return v.f
	case BOOL:
		return v.n != 0
	}
	return v.s
}

// feed hands v to c as the value of field f.
func (v *value) feed(c *converter, f field) {
	if v.null || f == fNone {
		return
	}
	switch v.t {
	case STRING:
		c.str(f, v.s)
	case BOOL:
		c.bool(f, v.n != 0)
	case FLOAT, DOUBLE:
		c.int(f, int64(v.f))
	default:
		c.int(f, v.n)
	}
}

// frameReader reads a frame's body. Strings are views of all, the body as
// one string: either a copy made once, or (alias) the body's own bytes,
// for a caller that is done with the strings before it reuses them.
type frameReader struct {
	buf []byte
	all string
	err error
}

func newFrameReader(body []byte, alias bool) frameReader {
	r := frameReader{buf: body}
	if alias && len(body) > 0 {
		r.all = unsafe.String(&body[0], len(body))
	} else {
		r.all = string(body)
	}
	return r
}

func (r *frameReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{errFrame}, args...)...)
	}
	r.buf = nil
}

func (r *frameReader) i32(what string) int32 {
	if len(r.buf) < 4 {
		r.fail("truncated %s: %d bytes left, want 4", what, len(r.buf))
		return 0
	}
	n := int32(binary.BigEndian.Uint32(r.buf))
	r.buf = r.buf[4:]
	return n
}

func (r *frameReader) i64(what string) int64 {
	if len(r.buf) < 8 {
		r.fail("truncated %s: %d bytes left, want 8", what, len(r.buf))
		return 0
	}
	n := int64(binary.BigEndian.Uint64(r.buf))
	r.buf = r.buf[8:]
	return n
}

// view returns the next n bytes as a string.
func (r *frameReader) view(n int32, what string) string {
	if n < 0 || int(n) > len(r.buf) {
		r.fail("%s of %d bytes, %d left", what, n, len(r.buf))
		return ""
	}
	off := len(r.all) - len(r.buf)
	r.buf = r.buf[n:]
	return r.all[off : off+int(n)]
}

// str reads a length-prefixed string. what names it in errors only, so
// that the hot path builds no message.
func (r *frameReader) str(what string) string {
	if len(r.buf) < 4 {
		r.fail("truncated %s length: %d bytes left, want 4", what, len(r.buf))
		return ""
	}
	n := int32(binary.BigEndian.Uint32(r.buf))
	r.buf = r.buf[4:]
	return r.view(n, what)
}

func (r *frameReader) login() (user, pass string) {
	un, pn := r.i32("user name length"), r.i32("password length")
	return r.view(un, "user name"), r.view(pn, "password")
}

// count reads a publish frame's event count. Each event takes at least 16
// bytes (size, timestamp, stream id length), which bounds a hostile count
// before anything is allocated for it.
func (r *frameReader) count(lim Limits) int {
	n := r.i32("event count")
	if r.err == nil && (n < 0 || int(n) > lim.MaxEvents || int(n) > len(r.buf)/16) {
		r.fail("%d events in %d bytes (at most %d a frame)", n, len(r.buf), lim.MaxEvents)
		return 0
	}
	return int(n)
}

// event reads one event: its timestamp and stream id into ts and id, its
// values appended to vals, or, with conv, fed to conv as they are read (a
// frame that turns out malformed is refused whole, so a half-fed event is
// never used); it returns the definition, the values, and a reader of the
// event's remaining bytes, its arbitrary map.
func (r *frameReader) event(defs StreamLookup, vals []value, ts *int64, id *string, conv *converter) (*StreamDef, []value, frameReader) {
	size := r.i32("event size")
	if r.err != nil {
		return nil, vals, frameReader{}
	}
	if size < 12 || int(size) > len(r.buf) {
		r.fail("event of %d bytes, %d left", size, len(r.buf))
		return nil, vals, frameReader{}
	}
	off := len(r.all) - len(r.buf)
	ev := frameReader{buf: r.buf[:size], all: r.all[:off+int(size)]}
	r.buf = r.buf[size:]
	*ts = ev.i64("timestamp")
	*id = ev.str("stream id")
	if ev.err != nil {
		r.err = ev.err
		return nil, vals, frameReader{}
	}
	def := defs.Lookup(*id)
	if def == nil {
		r.err = fmt.Errorf("%w: no definition of stream %q", ErrUndefinedStream, *id)
		return nil, vals, frameReader{}
	}
	var fields []field
	if conv != nil {
		conv.reset(def.plan.kind)
		fields = def.plan.fields
	}
	for i, a := range def.wire() {
		v := value{t: a.Type}
		switch a.Type {
		case INT:
			v.n = int64(ev.i32(a.Name))
		case LONG:
			v.n = ev.i64(a.Name)
		case FLOAT:
			v.f = float64(math.Float32frombits(uint32(ev.i32(a.Name))))
		case DOUBLE:
			v.f = math.Float64frombits(uint64(ev.i64(a.Name)))
		case BOOL:
			if len(ev.buf) < 1 {
				ev.fail("truncated %s: no byte left", a.Name)
			} else {
				v.n = int64(ev.buf[0])
				ev.buf = ev.buf[1:]
			}
		case STRING:
			v.s = ev.str(a.Name)
			// The agent writes a null as length 0: the two are one.
			v.null = v.s == ""
		}
		if ev.err != nil {
			r.err = fmt.Errorf("stream %s: %w", *id, ev.err)
			return nil, vals, frameReader{}
		}
		if conv != nil {
			v.feed(conv, fields[i])
		} else {
			vals = append(vals, v)
		}
	}
	return def, vals, ev
}

// arbitrary reads an event's arbitrary map, the rest of its bytes; nil when
// there is none.
func (r *frameReader) arbitrary() (map[string]string, error) {
	var m map[string]string
	for len(r.buf) > 0 && r.err == nil {
		k := r.str("arbitrary key")
		v := r.str("arbitrary value")
		if r.err == nil {
			if m == nil {
				m = make(map[string]string)
			}
			m[k] = v
		}
	}
	return m, r.err
}

// skipArbitrary checks an event's arbitrary map without keeping it: apilens
// has no use for it, but a malformed one is a malformed frame.
func (r *frameReader) skipArbitrary() error {
	for len(r.buf) > 0 && r.err == nil {
		r.str("arbitrary key")
		r.str("arbitrary value")
	}
	return r.err
}
