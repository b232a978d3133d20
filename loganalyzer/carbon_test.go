package loganalyzer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apilens/apilens"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// parseAll feeds text's lines to a new parser and returns every record.
func parseAll(t testing.TB, text string, loc *time.Location) []apilens.LogRecord {
	t.Helper()
	var recs []apilens.LogRecord
	emit := func(r apilens.LogRecord) { recs = append(recs, r) }
	p := NewParser("gw1", loc)
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		p.Feed(sc.Bytes(), emit)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	p.Flush(emit)
	return recs
}

func TestParseLine(t *testing.T) {
	ts := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse("2006-01-02 15:04:05.999999999Z07:00", s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	const handler = "org.wso2.carbon.apimgt.gateway.handlers.security.APIAuthenticationHandler"
	tests := []struct {
		name string
		line string
		want apilens.LogRecord // Source, Content and Parsed are checked apart
	}{
		{"2.x TID", "TID: [-1234] [] [2018-10-05 11:04:48,398]  WARN {" + handler + "} -  API authentication failure due to Invalid Credentials {" + handler + "}",
			apilens.LogRecord{Time: ts("2018-10-05 11:04:48.398Z"), Level: "WARN", Logger: handler, Tenant: "-1234", Message: "API authentication failure due to Invalid Credentials"}},
		{"2.x TID, server name", "TID: [0] [APIM] [2018-10-05 11:04:48,398] ERROR {a.B} -  boom {a.B}",
			apilens.LogRecord{Time: ts("2018-10-05 11:04:48.398Z"), Level: "ERROR", Logger: "a.B", Tenant: "0", Message: "boom"}},
		{"2.x message ending in another logger", "TID: [-1234] [] [2018-10-05 11:04:48,398]  INFO {a.B} -  see {a.C}",
			apilens.LogRecord{Time: ts("2018-10-05 11:04:48.398Z"), Level: "INFO", Logger: "a.B", Tenant: "-1234", Message: "see {a.C}"}},
		{"4.x TID", "TID: [-1234] [] [2020-05-12 10:15:30,123]  WARN {" + handler + "} - API authentication failure due to Invalid Credentials",
			apilens.LogRecord{Time: ts("2020-05-12 10:15:30.123Z"), Level: "WARN", Logger: handler, Tenant: "-1234", Message: "API authentication failure due to Invalid Credentials"}},
		{"4.x TID, correlation id", "TID: [-1234] [api/am/devportal] [2020-05-12 10:15:30,123] [3f1c2a7e-1d6b] ERROR {a.B} - boom",
			apilens.LogRecord{Time: ts("2020-05-12 10:15:30.123Z"), Level: "ERROR", Logger: "a.B", Tenant: "-1234", Message: "boom"}},
		{"4.x TID, empty correlation id", "TID: [] [] [2020-05-12 10:15:30,123] [] DEBUG {a.B} - x",
			apilens.LogRecord{Time: ts("2020-05-12 10:15:30.123Z"), Level: "DEBUG", Logger: "a.B", Message: "x"}},
		{"console", "[2020-05-12 10:15:30,123]  WARN {" + handler + "} - API authentication failure due to Invalid Credentials",
			apilens.LogRecord{Time: ts("2020-05-12 10:15:30.123Z"), Level: "WARN", Logger: handler, Message: "API authentication failure due to Invalid Credentials"}},
		{"console, artifact", "[2020-05-12 10:15:30,123]  INFO {org.apache.synapse.mediators.builtin.LogMediator} |api:PizzaShackAPI| - To: /menu",
			apilens.LogRecord{Time: ts("2020-05-12 10:15:30.123Z"), Level: "INFO", Logger: "org.apache.synapse.mediators.builtin.LogMediator", Message: "To: /menu"}},
		{"console, dot millis", "[2020-05-12 10:15:30.5] TRACE {a.B} - x",
			apilens.LogRecord{Time: ts("2020-05-12 10:15:30.5Z"), Level: "TRACE", Logger: "a.B", Message: "x"}},
		{"console, no millis, zone", "[2020-05-12 10:15:30+0530] FATAL {a.B} - x",
			apilens.LogRecord{Time: ts("2020-05-12 10:15:30+05:30"), Level: "FATAL", Logger: "a.B", Message: "x"}},
		{"console, zone with colon", "[2020-05-12T10:15:30,123-03:00] INFO {a.B} - x",
			apilens.LogRecord{Time: ts("2020-05-12 10:15:30.123-03:00"), Level: "INFO", Logger: "a.B", Message: "x"}},
		{"console, Z", "[2020-05-12 10:15:30,123Z] INFO {a.B} - x",
			apilens.LogRecord{Time: ts("2020-05-12 10:15:30.123Z"), Level: "INFO", Logger: "a.B", Message: "x"}},
		{"console, empty message", "[2020-05-12 10:15:30,123] INFO {a.B} -",
			apilens.LogRecord{Time: ts("2020-05-12 10:15:30.123Z"), Level: "INFO", Logger: "a.B"}},
		{"short logger", "[2020-05-12 10:15:30,123]  WARN - APIAuthenticationHandler API authentication failure due to Invalid Credentials",
			apilens.LogRecord{Time: ts("2020-05-12 10:15:30.123Z"), Level: "WARN", Logger: "APIAuthenticationHandler", Message: "API authentication failure due to Invalid Credentials"}},
		{"short logger, no message", "[2020-05-12 10:15:30,123]  INFO - CarbonCoreActivator",
			apilens.LogRecord{Time: ts("2020-05-12 10:15:30.123Z"), Level: "INFO", Logger: "CarbonCoreActivator"}},
		{"leap day", "[2020-02-29 23:59:59,999] INFO {a.B} - x",
			apilens.LogRecord{Time: ts("2020-02-29 23:59:59.999Z"), Level: "INFO", Logger: "a.B", Message: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := parseAll(t, tt.line, nil)
			if len(recs) != 1 {
				t.Fatalf("got %d records, want 1", len(recs))
			}
			got := recs[0]
			if !got.Parsed || got.Source != "gw1" || got.Content != tt.line {
				t.Errorf("Parsed %v, Source %q, Content %q", got.Parsed, got.Source, got.Content)
			}
			got.Parsed, got.Source, got.Content = false, "", ""
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestParseNotARecord lists lines that look almost like a record start
// but are not one: each continues the record before it.
func TestParseNotARecord(t *testing.T) {
	for _, line := range []string{
		"\tat org.apache.synapse.core.axis2.Axis2Sender.sendOn(Axis2Sender.java:80)",
		"Caused by: java.net.ConnectException: Connection refused",
		"\t... 12 more",
		" [2020-05-12 10:15:30,123] INFO {a.B} - indented",
		"[2020-05-12 10:15:30,123] NOTICE {a.B} - unknown level",
		"[2020-05-12 10:15:30,123] INFOx {a.B} - level glued to a word",
		"[2020-05-12 10:15:30,123] INFO a.B - no braces",
		"[2020-05-12 10:15:30,123] INFO {a.B} no dash",
		"[2020-05-12 10:15:30,123] INFO {a.B} -no space",
		"[2020-05-12 10:15:30,123] INFO {} - empty logger",
		"[2020-05-12 10:15:30,123] INFO {a.B |art - unclosed artifact",
		"[2020-05-12 10:15:30,123] INFO {a.B} |art - unclosed artifact",
		"[2020-05-12 10:15:30,123] INFO - ",
		"[2020-05-12 10:15:30,123] INFO",
		"[2020-05-12 10:15:30,] INFO {a.B} - no fraction digits",
		"[2020-05-12 10:15:30+05:] INFO {a.B} - broken zone",
		"[2020-05-12 24:00:00,000] INFO {a.B} - hour 24",
		"[2021-02-29 10:00:00,000] INFO {a.B} - not a leap year",
		"[2020-5-12 10:15:30,123] INFO {a.B} - short month",
		"[2020-05-12 10:15:30,123 INFO {a.B} - unclosed date",
		"TID: [-1234] [2020-05-12 10:15:30,123] INFO {a.B} - no app name",
		"TID: [-1234 [] [2020-05-12 10:15:30,123] INFO {a.B} - unclosed tenant",
		"TID: [-1234] [] [2020-05-12 10:15:30,123] [corr INFO {a.B} - unclosed correlation id",
		"TID:",
		"[",
		"2020-05-12 10:15:30,123 INFO {a.B} - no brackets",
	} {
		t.Run(line, func(t *testing.T) {
			const first = "[2020-05-12 10:15:30,123] ERROR {a.B} - first"
			recs := parseAll(t, first+"\n"+line, nil)
			if len(recs) != 1 || recs[0].Content != first+"\n"+line {
				t.Errorf("got %d records %+v; want the line to continue the first", len(recs), recs)
			}
		})
	}
}

func TestParserContinuation(t *testing.T) {
	in := strings.Join([]string{
		"\tat a.B.c(B.java:1)", // before any record: unparsed, zero time
		"",                     // skipped: nothing pending
		"[2020-05-12 10:15:30,123] ERROR {a.B} - failed",
		"java.lang.IllegalStateException: x",
		"",
		"\tat a.B.c(B.java:1)",
		"", // trailing blank lines do not join the record
		"",
		"[2020-05-12 10:15:31,000] INFO {a.B} - next",
	}, "\n")
	recs := parseAll(t, in, nil)
	if len(recs) != 3 {
		t.Fatalf("got %d records, want 3: %+v", len(recs), recs)
	}
	if r := recs[0]; r.Parsed || !r.Time.IsZero() || r.Content != "\tat a.B.c(B.java:1)" || r.Message != r.Content || r.Source != "gw1" {
		t.Errorf("unparsed first line: %+v", r)
	}
	if r := recs[1]; r.Content != "[2020-05-12 10:15:30,123] ERROR {a.B} - failed\njava.lang.IllegalStateException: x\n\n\tat a.B.c(B.java:1)" || r.Message != "failed" {
		t.Errorf("stack trace record: %q", r.Content)
	}

	// After a flush (an idle source), a late continuation line is a
	// record of its own, at the last record's time.
	p := NewParser("gw1", nil)
	var got []apilens.LogRecord
	emit := func(r apilens.LogRecord) { got = append(got, r) }
	p.Feed([]byte("[2020-05-12 10:15:30,123] ERROR {a.B} - failed"), emit)
	p.Flush(emit)
	p.Flush(emit) // nothing pending: no record
	p.Feed([]byte("\tat a.B.c(B.java:1)"), emit)
	if len(got) != 2 || got[1].Parsed || !got[1].Time.Equal(got[0].Time) || got[1].Level != "" {
		t.Errorf("late continuation: %+v", got)
	}
}

func TestParserLocation(t *testing.T) {
	colombo, err := time.LoadLocation("Asia/Colombo")
	if err != nil {
		t.Skipf("no zone database: %v", err)
	}
	recs := parseAll(t, "[2020-05-12 10:15:30,123] INFO {a.B} - local\n"+
		"[2020-05-12 10:15:31,000+0000] INFO {a.B} - zoned, same minute\n"+
		"[2020-05-12 10:15:32,000] INFO {a.B} - local again", colombo)
	want := []time.Time{
		time.Date(2020, 5, 12, 4, 45, 30, 123e6, time.UTC),
		time.Date(2020, 5, 12, 10, 15, 31, 0, time.UTC),
		time.Date(2020, 5, 12, 4, 45, 32, 0, time.UTC),
	}
	for i, r := range recs {
		if !r.Time.Equal(want[i]) {
			t.Errorf("record %d: time %v, want %v", i, r.Time, want[i])
		}
	}
}

func TestParserInvalidUTF8(t *testing.T) {
	recs := parseAll(t, "[2020-05-12 10:15:30,123] INFO {a.\xffB} - caf\xe9\n\tat \xc3", nil)
	r := recs[0]
	if r.Logger != "a.\uFFFDB" || r.Message != "caf\uFFFD" || r.Content != "[2020-05-12 10:15:30,123] INFO {a.\uFFFDB} - caf\uFFFD\n\tat \uFFFD" {
		t.Errorf("got %+v", r)
	}
}

func TestParserContentCap(t *testing.T) {
	check := func(t *testing.T, r apilens.LogRecord, inputLen int) {
		t.Helper()
		if len(r.Content) > apilens.MaxLogContentLen || !utf8.ValidString(r.Content) {
			t.Fatalf("content of %d bytes, valid UTF-8 %v", len(r.Content), utf8.ValidString(r.Content))
		}
		kept, note, ok := strings.Cut(r.Content, "\n… (cut: ")
		n, err := strconv.Atoi(strings.TrimSuffix(note, " more bytes)"))
		if !ok || err != nil {
			t.Fatalf("no cut note at the end of %q", r.Content[len(r.Content)-60:])
		}
		if len(kept)+n != inputLen {
			t.Errorf("kept %d + cut %d bytes, want %d", len(kept), n, inputLen)
		}
	}
	t.Run("long stack trace", func(t *testing.T) {
		lines := []string{"[2020-05-12 10:15:30,123] ERROR {a.B} - overflow"}
		for i := range 5000 {
			lines = append(lines, "\tat a.B.recurse(B.java:"+strconv.Itoa(i)+")")
		}
		in := strings.Join(lines, "\n")
		recs := parseAll(t, in+"\n[2020-05-12 10:15:31,000] INFO {a.B} - next", nil)
		if len(recs) != 2 || recs[0].Message != "overflow" {
			t.Fatalf("got %d records", len(recs))
		}
		check(t, recs[0], len(in))
	})
	t.Run("long first line of multi-byte text", func(t *testing.T) {
		head := "[2020-05-12 10:15:30,123] ERROR {a.B} - "
		in := head + strings.Repeat("é", apilens.MaxLogContentLen)
		r := parseAll(t, in, nil)[0]
		check(t, r, len(in))
		if !strings.HasPrefix(r.Content, r.Message) && !strings.HasPrefix(r.Content[len(head):], r.Message) || len(r.Message) < apilens.MaxLogContentLen-200 {
			t.Errorf("message of %d bytes", len(r.Message))
		}
	})
	t.Run("logger past the cap", func(t *testing.T) {
		logger := strings.Repeat("a", apilens.MaxLogContentLen)
		r := parseAll(t, "[2020-05-12 10:15:30,123] ERROR {"+logger+"} - x", nil)[0]
		if r.Logger != logger || r.Message != "" {
			t.Errorf("logger of %d bytes, message %q", len(r.Logger), r.Message)
		}
	})
	t.Run("exactly the cap", func(t *testing.T) {
		head := "[2020-05-12 10:15:30,123] ERROR {a.B} - "
		in := head + strings.Repeat("x", apilens.MaxLogContentLen-len(head))
		if r := parseAll(t, in, nil)[0]; r.Content != in {
			t.Errorf("a record of exactly the cap was cut")
		}
	})
}

// goldenRecord is a record as the golden files show it.
type goldenRecord struct {
	Time     string `json:"time"`
	Level    string `json:"level,omitempty"`
	Logger   string `json:"logger,omitempty"`
	Tenant   string `json:"tenant,omitempty"`
	Message  string `json:"message"`
	Content  string `json:"content"`
	Parsed   bool   `json:"parsed"`
	Category string `json:"category,omitempty"`
	Status   string `json:"status,omitempty"`
	Code     string `json:"code,omitempty"`
	API      string `json:"api,omitempty"`
}

// TestParserFixtures parses each testdata/*.log and classifies it with
// the default rules, against testdata/*.golden.json (go test -update
// rewrites them).
func TestParserFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/*.log")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	c, err := NewClassifier(DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			in, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var got []goldenRecord
			for _, r := range parseAll(t, string(in), nil) {
				c.Classify(&r)
				got = append(got, goldenRecord{
					Time: r.Time.Format(time.RFC3339Nano), Level: r.Level, Logger: r.Logger, Tenant: r.Tenant,
					Message: r.Message, Content: r.Content, Parsed: r.Parsed,
					Category: r.Category, Status: r.Status, Code: r.Code, API: r.API,
				})
			}
			b, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			b = append(b, '\n')
			golden := strings.TrimSuffix(file, ".log") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, b, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(b, want) {
				t.Errorf("%s differs from %s (go test -update rewrites it):\n%s", file, golden, b)
			}
		})
	}
}
