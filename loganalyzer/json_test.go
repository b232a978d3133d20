package loganalyzer

import (
	"strings"
	"testing"
	"time"

	"github.com/apilens/apilens"
)

func TestParseJSON(t *testing.T) {
	at := time.Date(2020, 5, 12, 10, 15, 30, 123e6, time.UTC)
	tests := []struct {
		name string
		in   string
		want apilens.LogRecord
	}{
		{"full", `{"timestamp":"2020-05-12T10:15:30.123Z","level":"WARN","logger":"a.B","message":"m","source":"gw1","tenant":"-1234","content":"m\n\tat x"}`,
			apilens.LogRecord{Time: at, Level: "WARN", Logger: "a.B", Message: "m", Source: "gw1", Tenant: "-1234", Content: "m\n\tat x", Parsed: true}},
		{"epoch millis, content from message", `{"timestamp":1589278530123,"level":"error","message":"m","extra":[1]}`,
			apilens.LogRecord{Time: at, Level: "ERROR", Message: "m", Content: "m", Parsed: true}},
		{"zone offset, warning, nulls", `{"timestamp":"2020-05-12T15:45:30.123+05:30","level":"warning","logger":null,"message":"m"}`,
			apilens.LogRecord{Time: at, Level: "WARN", Message: "m", Content: "m", Parsed: true}},
		{"content only", `{"timestamp":1589278530123,"content":"raw"}`,
			apilens.LogRecord{Time: at, Content: "raw", Parsed: true}},
		{"invalid UTF-8", "{\"timestamp\":1589278530123,\"message\":\"caf\xe9\"}",
			apilens.LogRecord{Time: at, Message: "caf\uFFFD", Content: "caf\uFFFD", Parsed: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseJSON([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !got.Time.Equal(tt.want.Time) {
				t.Errorf("time %v, want %v", got.Time, tt.want.Time)
			}
			got.Time = tt.want.Time
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseJSONErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"timestamp":`, "invalid JSON"},
		{`[1]`, "not a JSON object"},
		{`{"level":"INFO","message":"m"}`, `field "timestamp" is missing`},
		{`{"timestamp":"2020-05-12 10:15:30","message":"m"}`, `field "timestamp": cannot parse "2020-05-12 10:15:30" as RFC 3339`},
		{`{"timestamp":1.5,"message":"m"}`, `field "timestamp": 1.5 is not a whole number`},
		{`{"timestamp":true,"message":"m"}`, `field "timestamp": JSON true where`},
		{`{"timestamp":1589278530123}`, `field "message" is missing`},
		{`{"timestamp":1589278530123,"message":5}`, `field "message": JSON number where a string expected`},
		{`{"timestamp":1589278530123,"message":"m","level":"NOTICE"}`, `field "level": unknown level "NOTICE"`},
		{`{"timestamp":1589278530123,"message":"m","source":{}}`, `field "source": JSON object where a string expected`},
	} {
		_, err := ParseJSON([]byte(tt.in))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: got error %v, want one starting %q", tt.in, err, tt.want)
		}
	}
}

func TestParseJSONCap(t *testing.T) {
	long := strings.Repeat("é", apilens.MaxLogContentLen)
	r, err := ParseJSON([]byte(`{"timestamp":1589278530123,"message":"` + long + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Content) > apilens.MaxLogContentLen || !strings.HasSuffix(r.Content, " more bytes)") || len(r.Message) > apilens.MaxLogContentLen {
		t.Errorf("content of %d bytes ending %q", len(r.Content), r.Content[len(r.Content)-30:])
	}
}
