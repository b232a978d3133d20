package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/web"
)

// carbonLine formats one 4.x carbon record at t.
func carbonLine(t time.Time, level, logger, msg string) string {
	return fmt.Sprintf("TID: [-1234] [] [%s] %5s {%s} - %s", t.Format("2006-01-02 15:04:05,000"), level, logger, msg)
}

type logAnswer struct {
	ID        int64
	Timestamp time.Time
	Source    string
	Seq       int64
	Level     string
	Status    string
	Code      string
	Category  string
	Content   string
	Parsed    bool
}

// TestLogAnalyzer posts carbon logs of two sources over HTTP and checks
// what the log analyzer's API makes of them against what was written: the
// token-error counts (with the previous period), the records of a status
// in either order across pages, the context window of 100 + 100 records
// of one source, the live tail, and who may read and write.
func TestLogAnalyzer(t *testing.T) {
	m := startServer(t, t.TempDir(), nil)
	defer m.Close()
	admin := &client{t: t, base: m.URL(), user: "admin", pass: "secret-test-password"}

	// The live tail, subscribed before anything is posted.
	req, _ := http.NewRequest("GET", m.URL()+"/api/v1/logs/tail?category=access_token", nil)
	req.SetBasicAuth("admin", "secret-test-password")
	tail, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer tail.Body.Close()
	tailed := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(tail.Body)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var recs []logAnswer
				json.Unmarshal([]byte(data), &recs)
				for _, r := range recs {
					tailed <- r.Status
				}
			}
		}
	}()

	const handler = "org.wso2.carbon.apimgt.gateway.handlers.security.APIAuthenticationHandler"
	statuses := map[string]string{"Invalid Credentials": "900901", "Missing Credentials": "900902", "Access Token Expired": "900903"}
	names := []string{"Invalid Credentials", "Missing Credentials", "Access Token Expired"}
	now := time.Now().UTC().Truncate(time.Second)
	rng := rand.New(rand.NewPCG(1, 2))
	type written struct {
		at     time.Time
		status string
		source string
	}
	var all []written
	bodies := map[string]*strings.Builder{"gw-1": {}, "gw-2": {}}
	// 1,200 records over the last 20 hours, a third of them token errors,
	// some with stack traces, and a garbage line in gw-2.
	for i := 0; i < 1200; i++ {
		at := now.Add(-20 * time.Hour).Add(time.Duration(i) * time.Minute)
		src := []string{"gw-1", "gw-2"}[i%2]
		b := bodies[src]
		switch i % 3 {
		case 0:
			st := names[rng.IntN(3)]
			b.WriteString(carbonLine(at, "WARN", handler, "API authentication failure due to "+st) + "\n")
			all = append(all, written{at, st, src})
		case 1:
			b.WriteString(carbonLine(at, "INFO", "org.apache.synapse.rest.API", "Initializing API: admin--PizzaShackAPI:v1.0.0") + "\n")
			all = append(all, written{at, "", src})
		default:
			b.WriteString(carbonLine(at, "ERROR", "org.wso2.carbon.Foo", "boom") + "\njava.lang.IllegalStateException: boom\n\tat org.wso2.Foo.bar(Foo.java:12)\nCaused by: java.io.IOException\n")
			all = append(all, written{at, "", src})
		}
		if i == 601 {
			b.WriteString("%%% not a log line %%%\n")
			all = append(all, written{at, "", src}) // stamped with the last record's time
		}
	}
	for src, b := range bodies {
		code, body := admin.do("POST", "/api/v1/logs?format=carbon&source="+src, []byte(b.String()), map[string]string{"Content-Type": "text/plain"})
		if code != 202 {
			t.Fatalf("POST logs %s: %d %s", src, code, body)
		}
		var res struct{ Accepted, Unparsed int }
		json.Unmarshal(body, &res)
		if want := strings.Count(b.String(), "TID:"); res.Accepted-res.Unparsed != want {
			t.Fatalf("%s: %s; want %d parsed records", src, body, want)
		}
	}

	// Token errors in the last 10 hours, and the 10 before.
	from, to := now.Add(-10*time.Hour), now.Add(time.Minute)
	q := "from=" + url.QueryEscape(from.Format(time.RFC3339)) + "&to=" + url.QueryEscape(to.Format(time.RFC3339))
	var te struct {
		Statuses []struct {
			Status, Code string
			Count        int64
		}
		Previous struct {
			Statuses []struct {
				Status string
				Count  int64
			}
		}
	}
	admin.getJSON("/api/v1/loganalyzer/token-errors?compare=previous&"+q, &te)
	want, wantPrev := map[string]int64{}, map[string]int64{}
	for _, w := range all {
		if w.status == "" {
			continue
		}
		if !w.at.Before(from) && w.at.Before(to) {
			want[w.status]++
		} else if !w.at.Before(from.Add(-to.Sub(from))) && w.at.Before(from) {
			wantPrev[w.status]++
		}
	}
	got := map[string]int64{}
	for _, s := range te.Statuses {
		got[s.Status] = s.Count
		if s.Code != statuses[s.Status] {
			t.Errorf("status %q has code %q, want %q", s.Status, s.Code, statuses[s.Status])
		}
	}
	gotPrev := map[string]int64{}
	for _, s := range te.Previous.Statuses {
		gotPrev[s.Status] = s.Count
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(gotPrev) != fmt.Sprint(wantPrev) {
		t.Fatalf("token errors: %v (previous %v), want %v (previous %v)", got, gotPrev, want, wantPrev)
	}

	// The records of one status, both orders, 7 a page.
	for _, order := range []string{"asc", "desc"} {
		var ids []int64
		var last time.Time
		cursor := ""
		for {
			var page struct {
				Records []logAnswer
				Next    string
			}
			admin.getJSON("/api/v1/loganalyzer/token-errors/records?status=Invalid+Credentials&limit=7&order="+order+"&"+q+"&cursor="+url.QueryEscape(cursor), &page)
			for _, r := range page.Records {
				if r.Status != "Invalid Credentials" || r.Code != "900901" || !strings.Contains(r.Content, "Invalid Credentials") {
					t.Fatalf("record %+v", r)
				}
				if !last.IsZero() && (order == "asc" && r.Timestamp.Before(last) || order == "desc" && r.Timestamp.After(last)) {
					t.Fatalf("%s order broken at %v after %v", order, r.Timestamp, last)
				}
				last = r.Timestamp
				ids = append(ids, r.ID)
			}
			if cursor = page.Next; cursor == "" {
				break
			}
		}
		if int64(len(ids)) != want["Invalid Credentials"] {
			t.Fatalf("%s: %d records over the pages, want %d", order, len(ids), want["Invalid Credentials"])
		}
	}

	// The context of a record in the middle of gw-2: 100 records of gw-2
	// either side, in sequence, the stack traces kept in their records.
	var page struct{ Records []logAnswer }
	admin.getJSON("/api/v1/loganalyzer/records?source=gw-2&order=asc&limit=300&"+q, &page)
	mid := page.Records[150]
	var ctxAns struct {
		Record        logAnswer
		Before, After []logAnswer
	}
	admin.getJSON(fmt.Sprintf("/api/v1/logs/%d/context?before=100&after=100", mid.ID), &ctxAns)
	if ctxAns.Record.ID != mid.ID || len(ctxAns.Before) != 100 || len(ctxAns.After) != 100 {
		t.Fatalf("context: record %d, %d before, %d after", ctxAns.Record.ID, len(ctxAns.Before), len(ctxAns.After))
	}
	for i, r := range append(ctxAns.Before, ctxAns.After...) {
		wantSeq := mid.Seq - 100 + int64(i)
		if i >= 100 {
			wantSeq++
		}
		if r.Source != "gw-2" || r.Seq != wantSeq {
			t.Fatalf("context line %d: %s seq %d, want gw-2 seq %d", i, r.Source, r.Seq, wantSeq)
		}
		if r.Level == "ERROR" && !strings.Contains(r.Content, "\n\tat org.wso2.Foo.bar(Foo.java:12)\nCaused by:") {
			t.Fatalf("an error record lost its stack trace: %q", r.Content)
		}
		if !r.Parsed && r.Content != "%%% not a log line %%%" {
			t.Fatalf("unparsed record %q", r.Content)
		}
	}
	// The first record of a source has nothing before it.
	admin.getJSON("/api/v1/loganalyzer/records?source=gw-1&order=asc&limit=1&from=2000-01-01T00:00:00Z", &page)
	admin.getJSON(fmt.Sprintf("/api/v1/logs/%d/context", page.Records[0].ID), &ctxAns)
	if len(ctxAns.Before) != 0 || len(ctxAns.After) != 100 {
		t.Fatalf("context of a source's first record: %d before, %d after", len(ctxAns.Before), len(ctxAns.After))
	}

	// The tail saw every token error, in order of posting.
	var tokenErrors int
	for _, w := range all {
		if w.status != "" {
			tokenErrors++
		}
	}
	for i := 0; i < tokenErrors; i++ {
		select {
		case <-tailed:
		case <-time.After(5 * time.Second):
			t.Fatalf("the live tail delivered %d of %d token errors", i, tokenErrors)
		}
	}

	// NDJSON: a bad item is rejected by index, the good one kept.
	code, body := admin.do("POST", "/api/v1/logs?source=gw-3", []byte(`{"timestamp":"2026-11-23T10:00:00Z","level":"WARN","logger":"x","message":"API authentication failure due to Missing Credentials"}
{"timestamp":12,"level":7}
`), nil)
	if code != 202 || !strings.Contains(string(body), `"accepted":1`) || !strings.Contains(string(body), `"index":1`) {
		t.Fatalf("NDJSON logs: %d %s", code, body)
	}

	// A retried batch with the same Idempotency-Key is stored once.
	line := []byte(carbonLine(now, "WARN", handler, "API authentication failure due to Missing Credentials") + "\n")
	for i, wantDup := range []bool{false, true} {
		code, body := admin.do("POST", "/api/v1/logs?format=carbon&source=gw-4", line, map[string]string{"Idempotency-Key": "retry-1"})
		if code != 202 || strings.Contains(string(body), `"duplicate":true`) != wantDup {
			t.Fatalf("post %d with the same key: %d %s", i, code, body)
		}
	}
	var gw4 struct{ Records []logAnswer }
	admin.getJSON("/api/v1/loganalyzer/records?source=gw-4&from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z", &gw4)
	if len(gw4.Records) != 1 {
		t.Fatalf("a retried batch stored %d times", len(gw4.Records))
	}

	// A viewer of traffic may not read logs; a publisher may post them.
	h, _ := web.HashPassword("viewer-pass-1")
	m.Store.PutUser(context.Background(), &apilens.User{Name: "viewer", PasswordHash: h, Roles: []string{apilens.ScopeBusinessAnalytics, apilens.ScopeMonitoring}})
	viewer := &client{t: t, base: m.URL(), user: "viewer", pass: "viewer-pass-1"}
	if code, _ := viewer.do("GET", "/api/v1/loganalyzer/token-errors", nil, nil); code != 403 {
		t.Errorf("a traffic viewer reads token errors: %d", code)
	}
	if code, _ := viewer.do("POST", "/api/v1/logs?format=carbon&source=x", []byte("x\n"), nil); code != 403 {
		t.Errorf("a traffic viewer posts logs: %d", code)
	}
	if code, body := admin.do("POST", "/api/v1/logs?format=carbon", []byte("x\n"), nil); code != 400 || !strings.Contains(string(body), "source is required") {
		t.Errorf("carbon without a source: %d %s", code, body)
	}
}
