package databridge

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/apilens/apilens"
)

// fakeSink is an EventSink that decodes and keeps what it is given.
type fakeSink struct {
	mu         sync.Mutex
	principals []string
	events     []apilens.Event
	err        error
}

func (f *fakeSink) Submit(ctx context.Context, principal, key string, data []byte, n int) (bool, error) {
	if f.err != nil {
		return false, f.err
	}
	var b apilens.Batch
	var d apilens.Decoder
	if err := d.DecodeBatch(apilens.AppendEncodedBatch(nil, key, n, data), &b); err != nil {
		return false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.principals = append(f.principals, principal)
	f.events = append(f.events, b.Events...)
	return false, nil
}

var _ EventSink = (*fakeSink)(nil)

// users is the fake account store of the tests.
var users = map[string]*apilens.User{
	"gw":     {Name: "gw", Roles: []string{apilens.RolePublisher}},
	"admin":  {Name: "admin", Roles: []string{apilens.RoleAdmin}},
	"viewer": {Name: "viewer", Roles: []string{apilens.ScopeAPIAnalytics}},
}

func fakeAuth(ctx context.Context, user, pass string) (*apilens.User, error) {
	if u := users[user]; u != nil && pass == "secret" {
		return u, nil
	}
	return nil, apilens.Errorf(apilens.EUNAUTHORIZED, "wrong user name or password")
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestCore(t *testing.T) (*Core, *fakeSink, *[]apilens.LogRecord, *clock) {
	t.Helper()
	sink := &fakeSink{}
	var logs []apilens.LogRecord
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	c := NewCore(CoreOptions{
		Auth: fakeAuth, Events: sink, Now: clk.now,
		Logs: func(ctx context.Context, recs []apilens.LogRecord) error {
			logs = append(logs, recs...)
			return nil
		},
	})
	return c, sink, &logs, clk
}

func TestLogin(t *testing.T) {
	c, _, _, clk := newTestCore(t)
	ctx := context.Background()
	sid, err := c.Login(ctx, "gw", "secret")
	if err != nil {
		t.Fatal(err)
	}
	if len(sid) != 36 || sid[8] != '-' || sid[14] != '4' {
		t.Errorf("session id %q is not a v4 UUID", sid)
	}
	if _, err := c.Session(sid); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ user, pass string }{{"gw", "wrong"}, {"nobody", "secret"}, {"viewer", "secret"}} {
		if s, err := c.Login(ctx, tc.user, tc.pass); !errors.Is(err, ErrAuthentication) || s != "" {
			t.Errorf("Login(%s, %s) = %q, %v; want ErrAuthentication", tc.user, tc.pass, s, err)
		}
	}
	clk.add(SessionTTL - time.Second)
	if _, err := c.Session(sid); err != nil {
		t.Errorf("session expired before 30 minutes: %v", err)
	}
	clk.add(2 * time.Second)
	if _, err := c.Session(sid); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("session alive after 30 minutes: %v", err)
	}
	sid, _ = c.Login(ctx, "admin", "secret")
	c.Logout(sid)
	if err := c.Publish(ctx, sid, nil); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("publish after logout: %v", err)
	}
}

func TestParseStreamDefinition(t *testing.T) {
	d, err := ParseStreamDefinition([]byte(`{"name":"s","metaData":[{"name":"a","type":"string"}],
		"correlationData":[{"name":"b","type":"Long"}],"payloadData":[{"name":"c","type":"INT"},{"name":"d","type":"bool"},{"name":"e","type":"float"},{"name":"f","type":"DOUBLE"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if d.ID() != "s:1.0.0" || d.NumAttrs() != 6 || d.Attr(1).Type != LONG || d.Attr(5) != (Attribute{"f", DOUBLE}) {
		t.Errorf("got %+v", d)
	}
	for _, bad := range []struct{ json, want string }{
		{`{"version":"1"}`, "no name"},
		{`{"name":"s","payloadData":[{"name":"a","type":"TEXT"}]}`, `payloadData attribute "a": unknown attribute type "TEXT"`},
		{`{"name":"s","payloadData":[{"type":"INT"}]}`, "payloadData[0]: no name"},
		{`{"name":"s","metaData":[{"name":"a","type":"INT"},{"name":"a","type":"INT"}]}`, `attribute "a" defined twice`},
		{`{"name":`, "stream definition: unexpected end"},
	} {
		_, err := ParseStreamDefinition([]byte(bad.json))
		if err == nil || !contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want it to say %q", bad.json, err, bad.want)
		}
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || len(s) >= len(sub) && (s[:len(sub)] == sub || contains(s[1:], sub))
}

func TestBuiltin(t *testing.T) {
	r := NewRegistry()
	for _, tc := range []struct {
		id    string
		n     int
		attrs map[int]string
	}{
		{"org.wso2.apimgt.statistics.request:3.0.0", 36, map[int]string{18: "requestTimestamp", 26: "responseCode"}},
		{"org.wso2.apimgt.statistics.request:3.1.0", 37, map[int]string{36: "properties"}},
		{"org.wso2.apimgt.statistics.request:3.2.0", 37, nil},
		{"org.wso2.apimgt.statistics.fault:3.0.0", 17, map[int]string{5: "apiMethod", 14: "errorCode"}},
		{"org.wso2.apimgt.statistics.fault:3.1.0", 18, map[int]string{17: "properties"}},
		{"org.wso2.apimgt.statistics.fault:3.2.0", 20, map[int]string{5: "apiResourceTemplate", 14: "applicationOwner", 19: "properties"}},
		{"org.wso2.apimgt.statistics.throttle:3.0.0", 14, map[int]string{7: "applicationId"}},
		{"org.wso2.apimgt.statistics.throttle:3.1.0", 15, nil},
		{"org.wso2.apimgt.statistics.throttle:3.2.0", 17, map[int]string{7: "apiResourceTemplate", 8: "apiMethod"}},
		{"loganalyzer:1.0.0", 9, nil},
	} {
		d := r.Lookup(tc.id)
		if d == nil {
			t.Errorf("%s: not built in", tc.id)
			continue
		}
		if len(d.Payload) != tc.n {
			t.Errorf("%s: %d payload attributes, want %d", tc.id, len(d.Payload), tc.n)
		}
		if d.Name != StreamLog && (len(d.Meta) != 1 || d.Meta[0] != (Attribute{"clientType", STRING}) || len(d.Correlation) != 0) {
			t.Errorf("%s: meta %v correlation %v", tc.id, d.Meta, d.Correlation)
		}
		for i, name := range tc.attrs {
			if d.Payload[i].Name != name {
				t.Errorf("%s: payload[%d] = %s, want %s", tc.id, i, d.Payload[i].Name, name)
			}
		}
	}
	if r.Delete("org.wso2.apimgt.statistics.request:3.2.0") {
		t.Error("a built-in definition was deleted")
	}
	if err := r.Define(&StreamDef{Name: "x", Payload: []Attribute{{"a", INT}}}); err != nil || r.Lookup("x:1.0.0") == nil || !r.Delete("x:1.0.0") {
		t.Errorf("define/delete a client definition: %v", err)
	}
}

var (
	discard   = slog.New(slog.DiscardHandler)
	farFuture = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
)
