package loganalyzer

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apilens/apilens"
)

// FuzzParser feeds the input's lines to a parser and checks that it never
// panics, that every record is valid UTF-8 within the content cap, and
// that no line is lost: the records' text, blank lines aside, is the
// input's text.
func FuzzParser(f *testing.F) {
	// The fixtures, a few lines to a seed: small seeds keep the fuzzer's
	// minimizing of what it finds quick.
	files, _ := filepath.Glob("testdata/*.log")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		lines := bytes.SplitAfter(b, []byte("\n"))
		for i := 0; i < len(lines); i += 3 {
			f.Add(bytes.Join(lines[i:min(i+3, len(lines))], nil))
		}
	}
	f.Add([]byte("TID: [-1234] [] [2018-10-05 11:04:48,398]  WARN {a.B} -  m {a.B}\n\tat x"))
	f.Add([]byte("[2020-05-12 10:15:30,123+05:30] [c] INFO {a.B} |x| - m\r\n"))
	f.Add([]byte("[2020-05-12 10:15:30.1]  WARN - A m\n\n\n[2020-05-12T10:15:30Z] FATAL {a} -"))
	c, err := NewClassifier(DefaultRules())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var recs []apilens.LogRecord
		emit := func(r apilens.LogRecord) {
			c.Classify(&r)
			recs = append(recs, r)
		}
		p := NewParser("fuzz", nil)
		var want []string
		for line := range bytes.SplitSeq(in, []byte("\n")) {
			p.Feed(line, emit)
			line = bytes.TrimSuffix(line, []byte("\r"))
			if len(line) > 0 {
				want = append(want, strings.ToValidUTF8(string(line), "\uFFFD"))
			}
		}
		p.Flush(emit)

		var got []string
		cut := false
		for _, r := range recs {
			if len(r.Content) > apilens.MaxLogContentLen || !utf8.ValidString(r.Content) || !utf8.ValidString(r.Message) {
				t.Fatalf("record content of %d bytes, valid UTF-8 %v", len(r.Content), utf8.ValidString(r.Content))
			}
			if r.Source != "fuzz" || r.Seq != 0 || r.ID != 0 {
				t.Fatalf("record with source %q, seq %d, id %d", r.Source, r.Seq, r.ID)
			}
			if r.Parsed && (r.Level == "" || r.Logger == "") {
				t.Fatalf("parsed record without level or logger: %+v", r)
			}
			if strings.Contains(r.Content, "\n… (cut: ") {
				cut = true // a cut record has lost lines on purpose
			}
			for line := range strings.SplitSeq(r.Content, "\n") {
				if line != "" {
					got = append(got, line)
				}
			}
		}
		if !cut && strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("records' lines\n%q\ndiffer from the input's\n%q", got, want)
		}
	})
}

// FuzzParseJSON checks that ParseJSON never panics and that what it
// accepts is valid UTF-8 within the cap.
func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"timestamp":"2020-05-12T10:15:30.123Z","level":"WARN","logger":"a.B","message":"m","source":"gw1","tenant":"-1234","content":"m\n\tat x"}`))
	f.Add([]byte(`{"timestamp":1589278530123,"level":"warning","message":"m"}`))
	f.Add([]byte(`{"timestamp":null,"message":"m"}`))
	f.Add([]byte(`{"timestamp":1e30,"content":"\ud800"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := ParseJSON(in)
		if err != nil {
			return
		}
		if len(r.Content) > apilens.MaxLogContentLen || len(r.Message) > apilens.MaxLogContentLen {
			t.Fatalf("content of %d bytes, message of %d", len(r.Content), len(r.Message))
		}
		for _, s := range []string{r.Content, r.Message, r.Logger, r.Level, r.Source, r.Tenant} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 %q in %+v", s, r)
			}
		}
		if r.Time.IsZero() && !bytes.Contains(in, []byte("timestamp")) {
			t.Fatalf("accepted without a timestamp: %q", in)
		}
	})
}
