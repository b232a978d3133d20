package simulate

import (
	"bytes"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/loganalyzer"
)

// genLogs writes the logs of n calls of seeded traffic from start on, with
// the gateway's own activity between them.
func genLogs(o LogOptions, n int, start time.Time) ([]byte, *LogGenerator, []apilens.Event) {
	tg := NewGenerator(o.Options)
	lg := NewLogGenerator(o)
	var out []byte
	var e apilens.Event
	var faults []apilens.Event
	ts := start
	next := lg.NextAmbient(start)
	for range n {
		ts = ts.Add(97 * time.Millisecond)
		for !next.After(ts) {
			out = lg.AppendAmbient(out, next)
			next = lg.NextAmbient(next)
		}
		tg.Next(&e, ts)
		if e.EventType == apilens.EventFault {
			faults = append(faults, e)
		}
		out = lg.AppendEvent(out, &e)
	}
	return out, lg, faults
}

func TestLogGeneratorClassifiesAsCounted(t *testing.T) {
	classifier, err := loganalyzer.NewClassifier(loganalyzer.DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	kolkata := time.FixedZone("IST", 5*3600+1800)
	start := time.Date(2026, 11, 23, 10, 15, 30, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		layout LogLayout
		zone   *time.Location
	}{
		{"tid", LayoutTID, nil},
		{"tid2", LayoutTID2, kolkata},
		{"console", LayoutConsole, nil},
		{"console-short", LayoutConsoleShort, kolkata},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := LogOptions{Options: Options{Seed: 7, APIs: 12, Applications: 30}, Layout: tc.layout, Zone: tc.zone, AmbientInterval: 200 * time.Millisecond}
			text, lg, faults := genLogs(o, 20000, start)
			again, _, _ := genLogs(o, 20000, start)
			if !bytes.Equal(text, again) {
				t.Fatal("the same seed gave different logs")
			}

			got := map[LogKey]int{}
			var recs []apilens.LogRecord
			p := loganalyzer.NewParser("gw-1", tc.zone)
			emit := func(r apilens.LogRecord) {
				if !r.Parsed {
					t.Errorf("unparsed record %q", r.Content)
				}
				classifier.Classify(&r)
				got[LogKey{r.Category, r.Status, r.Code, r.API}]++
				recs = append(recs, r)
			}
			lines := bytes.Split(bytes.TrimSuffix(text, []byte("\n")), []byte("\n"))
			for _, l := range lines {
				p.Feed(l, emit)
			}
			p.Flush(emit)
			if int64(len(lines)) != lg.Lines() || int64(len(recs)) != lg.Records() {
				t.Errorf("%d lines, %d records; the generator says %d, %d", len(lines), len(recs), lg.Lines(), lg.Records())
			}
			if !maps.Equal(got, lg.Counts()) {
				t.Errorf("classified:\n%v\nthe generator says:\n%v", got, lg.Counts())
			}

			// Every category shows up, and every authentication failure.
			cats := map[string]bool{}
			codes := map[string]bool{}
			for k := range got {
				cats[k.Category] = true
				codes[k.Code] = true
			}
			for _, c := range []string{apilens.LogAccessToken, apilens.LogLogin, apilens.LogAppError, apilens.LogAPIDeployed,
				apilens.LogAPIDeleted, apilens.LogAPIFailure, apilens.LogAudit, ""} {
				if !cats[c] {
					t.Errorf("no record of category %q", c)
				}
			}
			for code := range authMessages {
				if !codes[strconv.Itoa(code)] {
					t.Errorf("no authentication failure %d", code)
				}
			}

			// An AUTH fault is logged at the time of the call, in the zone.
			at := map[time.Time]bool{}
			for _, r := range recs {
				if r.Category == apilens.LogAccessToken {
					at[r.Time] = true
				}
			}
			for _, e := range faults {
				if e.ErrorType == apilens.FaultAuth && !at[e.RequestTimestamp] {
					t.Fatalf("no authentication failure logged at %s for %d", e.RequestTimestamp, e.ErrorCode)
				}
			}
		})
	}
}
