package databridge

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const testSID = "123e4567-e89b-42d3-a456-426614174000"

// allTypes is a stream with an attribute of every type in each section.
var allTypes = &StreamDef{
	Name: "test.alltypes", Version: "1.0.0",
	Meta:        []Attribute{{"m_int", INT}},
	Correlation: []Attribute{{"c_long", LONG}},
	Payload: []Attribute{{"p_float", FLOAT}, {"p_double", DOUBLE}, {"p_bool", BOOL}, {"p_string", STRING},
		{"p_null_string", STRING}, {"p_null_int", INT}, {"p_false", BOOL}},
}

func testRegistry(t testing.TB) *Registry {
	r := NewRegistry()
	if err := r.Define(allTypes); err != nil {
		t.Fatal(err)
	}
	return r
}

func allTypesEvent() Event {
	return Event{
		StreamID: "test.alltypes:1.0.0", Timestamp: 1767225600123,
		Meta: []any{int32(-7)}, Correlation: []any{int64(1) << 40},
		Payload:   []any{float32(1.5), 2.25, true, "héllo", nil, nil, false},
		Arbitrary: map[string]string{"b": "2", "a": "1"},
	}
}

func requestEvent(t testing.TB, r *Registry) Event {
	return event(t, r, StreamRequest+":3.2.0", 1767225600000, requestValues(200))
}

// golden compares got with testdata/name, or writes it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the encoding:\n got % x\nwant % x", name, got, want)
	}
}

func TestGolden(t *testing.T) {
	r := testRegistry(t)
	publish := func(evs ...Event) []byte {
		b, err := AppendPublishFrame(nil, testSID, r, evs)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for name, b := range map[string][]byte{
		"login.bin":                     AppendLoginFrame(nil, "gw", "secret"),
		"logout.bin":                    AppendLogoutFrame(nil, testSID),
		"publish_alltypes.bin":          publish(allTypesEvent()),
		"publish_request.bin":           publish(requestEvent(t, r)),
		"publish_empty.bin":             publish(),
		"response_ok.bin":               AppendOKResponse(nil),
		"response_login.bin":            AppendLoginResponse(nil, testSID),
		"response_session_timeout.bin":  AppendErrorResponse(nil, ClassSessionTimeout, "session expired or unknown"),
		"response_undefined_stream.bin": AppendErrorResponse(nil, ClassUndefinedEventType, `undefined stream: no definition of stream "x:1.0.0"`),
		"response_authentication.bin":   AppendErrorResponse(nil, ClassAuthentication, "authentication failed"),
		"response_error.bin":            AppendErrorResponse(nil, ClassDataBridge, "malformed frame"),
	} {
		golden(t, name, b)
	}
}

// TestWireFormat checks the encoders against bytes assembled by hand from
// REFERENCE §1, so the golden files are not merely self-consistent.
func TestWireFormat(t *testing.T) {
	var w []byte
	i32 := func(n int32) { w = binary.BigEndian.AppendUint32(w, uint32(n)) }
	i64 := func(n int64) { w = binary.BigEndian.AppendUint64(w, uint64(n)) }
	str := func(s string) { i32(int32(len(s))); w = append(w, s...) }

	w = append(w, 0)
	i32(4 + 4 + 2 + 6)
	i32(2)
	i32(6)
	w = append(w, "gwsecret"...)
	if got := AppendLoginFrame(nil, "gw", "secret"); !bytes.Equal(got, w) {
		t.Errorf("login:\n got % x\nwant % x", got, w)
	}

	w = nil
	var ev []byte
	{
		w0 := w
		w = nil
		i64(1767225600123)
		str("test.alltypes:1.0.0")
		i32(-7)                            // m_int
		i64(1 << 40)                       // c_long
		i32(int32(math.Float32bits(1.5)))  // p_float
		i64(int64(math.Float64bits(2.25))) // p_double
		w = append(w, 1)                   // p_bool
		str("héllo")                       // p_string (UTF-8 bytes)
		i32(0)                             // p_null_string
		i32(0)                             // p_null_int
		w = append(w, 0)                   // p_false
		str("a")
		str("1")
		str("b")
		str("2") // arbitrary, key order
		ev, w = w, w0
	}
	body := []byte{}
	w = nil
	str(testSID)
	i32(1)
	i32(int32(len(ev)))
	body = append(w, ev...)
	w = []byte{2}
	i32(int32(len(body)))
	w = append(w, body...)
	got, err := AppendPublishFrame(nil, testSID, testRegistry(t), []Event{allTypesEvent()})
	if err != nil || !bytes.Equal(got, w) {
		t.Errorf("publish (%v):\n got % x\nwant % x", err, got, w)
	}

	w = []byte{1}
	i32(int32(len(ClassAuthentication)))
	i32(3)
	w = append(w, ClassAuthentication+"bad"...)
	if got := AppendErrorResponse(nil, ClassAuthentication, "bad"); !bytes.Equal(got, w) {
		t.Errorf("error response:\n got % x\nwant % x", got, w)
	}
	if got := AppendLoginResponse(nil, testSID); !bytes.Equal(got, append([]byte{2, 0, 0, 0, 36}, testSID...)) {
		t.Errorf("login response % x", got)
	}
}

func TestRoundTrip(t *testing.T) {
	r := testRegistry(t)
	f, err := DecodeFrame(AppendLoginFrame(nil, "gw", "pässword"), r, Limits{})
	if err != nil || f.Type != FrameLogin || f.User != "gw" || f.Password != "pässword" {
		t.Errorf("login: %+v %v", f, err)
	}
	f, err = DecodeFrame(AppendLogoutFrame(nil, testSID), r, Limits{})
	if err != nil || f.Type != FrameLogout || f.SessionID != testSID {
		t.Errorf("logout: %+v %v", f, err)
	}
	in := []Event{allTypesEvent(), requestEvent(t, r), {StreamID: "test.alltypes:1.0.0", Meta: []any{nil},
		Correlation: []any{int64(-1)}, Payload: []any{float32(0), math.Inf(-1), false, "", "x", int32(math.MinInt32), true}}}
	data, err := AppendPublishFrame(nil, testSID, r, in)
	if err != nil {
		t.Fatal(err)
	}
	f, err = DecodeFrame(data, r, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	// What the wire cannot tell apart: a null INT is 0, an empty string null.
	in[0].Payload[5] = int32(0)
	in[2].Meta[0] = int32(0)
	in[2].Payload[3] = nil
	for i := range in[1].Payload {
		if in[1].Payload[i] == "" {
			in[1].Payload[i] = nil
		}
	}
	if f.SessionID != testSID || !reflect.DeepEqual(f.Events, in) {
		t.Errorf("publish round trip:\n got %+v\nwant %+v", f.Events, in)
	}

	for _, resp := range []struct {
		data []byte
		want Response
		is   error
	}{
		{AppendOKResponse(nil), Response{Type: ResponseOK}, nil},
		{AppendLoginResponse(nil, testSID), Response{Type: ResponseLoginOK, SessionID: testSID}, nil},
		{AppendErrorResponse(nil, ClassSessionTimeout, "m"), Response{Type: ResponseError, Class: ClassSessionTimeout, Message: "m"}, ErrSessionExpired},
		{AppendErrorResponse(nil, ClassUndefinedEventType, "m"), Response{Type: ResponseError, Class: ClassUndefinedEventType, Message: "m"}, ErrUndefinedStream},
		{AppendErrorResponse(nil, ClassAuthentication, "m"), Response{Type: ResponseError, Class: ClassAuthentication, Message: "m"}, ErrAuthentication},
		{AppendErrorResponse(nil, ClassDataBridge, "m"), Response{Type: ResponseError, Class: ClassDataBridge, Message: "m"}, nil},
	} {
		got, err := ReadResponse(bytes.NewReader(resp.data))
		if err != nil || *got != resp.want {
			t.Errorf("response % x: %+v %v", resp.data, got, err)
			continue
		}
		if e := got.Err(); (e == nil) != (resp.want.Type != ResponseError) || resp.is != nil && !errors.Is(e, resp.is) {
			t.Errorf("response %+v: Err() = %v", got, e)
		}
	}
	if _, err := ReadResponse(bytes.NewReader([]byte{7})); err == nil {
		t.Error("unknown response type read")
	}
}

func TestDecodeErrors(t *testing.T) {
	r := testRegistry(t)
	good, _ := AppendPublishFrame(nil, testSID, r, []Event{allTypesEvent()})
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"short header", []byte{2, 0, 0}, "a frame header is 5"},
		{"unknown type", []byte{9, 0, 0, 0, 0}, "unknown frame type 9"},
		{"negative length", []byte{0, 0xff, 0xff, 0xff, 0xff}, "login frame of -1 bytes"},
		{"too long", []byte{2, 0x7f, 0, 0, 0}, "publish frame of 2130706432 bytes (the limit is 16777216)"},
		{"length mismatch", mod(func(b []byte) []byte { return b[:len(b)-1] }), "says"},
		{"login lengths", []byte{0, 0, 0, 0, 8, 0, 0, 0, 9, 0, 0, 0, 0}, "user name of 9 bytes, 0 left"},
		{"event count", mod(func(b []byte) []byte { binary.BigEndian.PutUint32(b[45:], 1000); return b }), "1000 events in"},
		{"event size", mod(func(b []byte) []byte { binary.BigEndian.PutUint32(b[49:], 5); return b }), "event of 5 bytes"},
		{"arbitrary", mod(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[1:], binary.BigEndian.Uint32(b[1:])-2)
			binary.BigEndian.PutUint32(b[49:], binary.BigEndian.Uint32(b[49:])-2)
			return b[:len(b)-2]
		}), "truncated arbitrary value length: 3 bytes left"},
		{"undefined", mod(func(b []byte) []byte { b[67] = 'X'; return b }), `event 0: undefined stream: no definition of stream "teXt.alltypes:1.0.0"`},
	} {
		_, err := DecodeFrame(tc.data, r, Limits{})
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
			t.Errorf("%s: error %v, want it to say %q", tc.name, err, tc.want)
		}
	}
}

// FuzzDecodeFrame checks that no input panics either decoder, that the
// server's decoder accepts exactly what DecodeFrame accepts, and that
// what decodes re-encodes stably.
func FuzzDecodeFrame(f *testing.F) {
	r := testRegistry(f)
	files, _ := filepath.Glob("testdata/*.bin")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) > 0 && b[0] <= 2 && filepath.Base(p)[0] != 'r' {
			f.Add(b)
		}
	}
	c := NewCore(CoreOptions{Auth: fakeAuth, Events: &fakeSink{}, Registry: r, Logger: discard})
	c.sessions[testSID] = &Session{ID: testSID, User: users["gw"], Expires: farFuture}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := DecodeFrame(data, r, Limits{})
		if len(data) >= 5 && data[0] == byte(FramePublish) && int(binary.BigEndian.Uint32(data[1:])) == len(data)-5 {
			fastErr := c.publishBinary(t.Context(), append([]byte(nil), data[5:]...), Limits{})
			sessionOK := fr != nil && fr.SessionID == testSID
			if err == nil && sessionOK && fastErr != nil || err != nil && fastErr == nil {
				t.Fatalf("DecodeFrame: %v; server decoder: %v", err, fastErr)
			}
		}
		if err != nil || fr.Type != FramePublish {
			return
		}
		e1, err := AppendPublishFrame(nil, fr.SessionID, r, fr.Events)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		fr2, err := DecodeFrame(e1, r, Limits{})
		if err != nil {
			t.Fatalf("decode re-encoded: %v", err)
		}
		e2, _ := AppendPublishFrame(nil, fr2.SessionID, r, fr2.Events)
		if !bytes.Equal(e1, e2) {
			t.Fatalf("unstable re-encoding:\n% x\n% x", e1, e2)
		}
	})
}
