package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apilens/apilens"
)

// logRec returns a record of source at base+sec seconds.
func logRec(source string, sec int, category, status string) apilens.LogRecord {
	return apilens.LogRecord{
		Source: source, Time: base.Add(time.Duration(sec) * time.Second), Level: "WARN",
		Logger:  "org.wso2.carbon.apimgt.gateway.handlers.security.APIAuthenticationHandler",
		Message: fmt.Sprintf("line %d", sec), Content: fmt.Sprintf("[t] WARN line %d\n\tat x", sec), Parsed: true,
		Category: category, Status: status, Code: "9009" + status,
	}
}

func appendLogs(t *testing.T, s apilens.Store, recs []apilens.LogRecord) {
	t.Helper()
	if dup, err := s.AppendLogs(context.Background(), "", recs); err != nil || dup {
		t.Fatalf("AppendLogs: duplicate %v, %v", dup, err)
	}
}

// testLogsKey: a batch with a key stored before is a duplicate and
// stores nothing; the same key for events and logs would be one key, so
// callers prefix theirs.
func testLogsKey(t *testing.T, s apilens.Store) {
	ctx := context.Background()
	for i, want := range []bool{false, true, true} {
		dup, err := s.AppendLogs(ctx, "log\x1fgw\x1fbatch-1", []apilens.LogRecord{logRec("gw", i, "", "")})
		if err != nil || dup != want {
			t.Fatalf("append %d: duplicate %v, %v; want %v", i, dup, err, want)
		}
	}
	dup, err := s.AppendLogs(ctx, "log\x1fgw\x1fbatch-2", []apilens.LogRecord{logRec("gw", 5, "", "")})
	if err != nil || dup {
		t.Fatalf("another key: duplicate %v, %v", dup, err)
	}
	page, err := s.Logs(ctx, apilens.LogQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 2 || page.Records[1].Seq != 2 {
		t.Fatalf("after a duplicate: %d records, want 2 numbered 1 and 2: %+v", len(page.Records), page.Records)
	}
	keys, err := s.IdempotencyKeys(ctx, time.Time{})
	if err != nil || len(keys) != 2 {
		t.Fatalf("IdempotencyKeys: %v, %v; want the two log keys", keys, err)
	}
}

// testLogsSeq: each source numbers its records on from its last number,
// across calls and after a purge; IDs are set and unique; what goes in
// comes back.
func testLogsSeq(t *testing.T, s apilens.Store) {
	ctx := context.Background()
	a := []apilens.LogRecord{logRec("gw1", 0, "", ""), logRec("gw2", 1, "", ""), logRec("gw1", 2, "", "")}
	a[0].Parsed, a[0].Level, a[0].Content = false, "", "garbage ünïcode"
	appendLogs(t, s, a)
	b := []apilens.LogRecord{logRec("gw1", 3, "", ""), logRec("gw2", 4, "", "")}
	appendLogs(t, s, b)
	all := append(a, b...)
	wantSeq := []int64{1, 1, 2, 3, 2}
	ids := map[int64]bool{}
	for i, r := range all {
		if r.Seq != wantSeq[i] || r.ID == 0 || ids[r.ID] {
			t.Fatalf("record %d: seq %d id %d, want seq %d and a new id", i, r.Seq, r.ID, wantSeq[i])
		}
		ids[r.ID] = true
	}
	page, err := s.Logs(ctx, apilens.LogQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 5 || page.Next != "" {
		t.Fatalf("Logs: %d records, next %q", len(page.Records), page.Next)
	}
	if got := page.Records[0]; got != a[0] {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, a[0])
	}
	if n, err := s.PurgeLogs(ctx, base.Add(3*time.Second)); err != nil || n != 3 {
		t.Fatalf("PurgeLogs: %d, %v; want 3", n, err)
	}
	c := []apilens.LogRecord{logRec("gw1", 5, "", "")}
	appendLogs(t, s, c)
	if c[0].Seq != 4 {
		t.Fatalf("seq after a purge: %d, want 4 (numbers never repeat)", c[0].Seq)
	}
}

// testLogsPaging: pages in either order cover a range exactly once, ties
// in time broken by ID, filters applied, and a bad cursor is EINVALID.
func testLogsPaging(t *testing.T, s apilens.Store) {
	ctx := context.Background()
	var recs []apilens.LogRecord
	for i := 0; i < 57; i++ {
		st := []string{"Invalid Credentials", "Missing Credentials", "Access Token Expired"}[i%3]
		recs = append(recs, logRec("gw"+fmt.Sprint(i%2), i/2, apilens.LogAccessToken, st)) // pairs share a time
	}
	recs = append(recs, logRec("gw0", 5, apilens.LogAppError, "Foo"))
	appendLogs(t, s, recs)
	for _, desc := range []bool{false, true} {
		q := apilens.LogQuery{From: base.Add(2 * time.Second), To: base.Add(25 * time.Second), Category: apilens.LogAccessToken,
			Status: "Invalid Credentials", Desc: desc, Limit: 4}
		var got []apilens.LogRecord
		for pages := 0; ; pages++ {
			p, err := s.Logs(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, p.Records...)
			if p.Next == "" {
				break
			}
			if pages > 100 {
				t.Fatal("paging does not end")
			}
			q.After = p.Next
		}
		var want []apilens.LogRecord
		for _, r := range recs {
			if r.Category == apilens.LogAccessToken && r.Status == "Invalid Credentials" && !r.Time.Before(q.From) && r.Time.Before(q.To) {
				want = append(want, r)
			}
		}
		if desc {
			for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
				want[i], want[j] = want[j], want[i]
			}
		}
		if len(got) != len(want) {
			t.Fatalf("desc=%v: %d records, want %d", desc, len(got), len(want))
		}
		for i := range got {
			if got[i].ID != want[i].ID {
				t.Fatalf("desc=%v: record %d is id %d, want %d", desc, i, got[i].ID, want[i].ID)
			}
		}
	}
	if _, err := s.Logs(ctx, apilens.LogQuery{After: "nonsense"}); apilens.ErrorCode(err) != apilens.EINVALID {
		t.Fatalf("bad cursor: %v, want EINVALID", err)
	}
}

// testLogContext: the window around a record is its own source's records,
// exactly before and after of them, fewer only at the source's ends.
func testLogContext(t *testing.T, s apilens.Store) {
	ctx := context.Background()
	var recs []apilens.LogRecord
	for i := 0; i < 300; i++ {
		recs = append(recs, logRec("gw1", i, "", ""), logRec("gw2", i, "", ""))
	}
	appendLogs(t, s, recs)
	check := func(idx, before, after, wantBefore, wantAfter int) {
		t.Helper()
		r := recs[idx]
		got, prev, next, err := s.LogContext(ctx, r.ID, before, after)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != r.ID || len(prev) != wantBefore || len(next) != wantAfter {
			t.Fatalf("context of seq %d: record %d, %d before, %d after; want %d, %d", r.Seq, got.ID, len(prev), len(next), wantBefore, wantAfter)
		}
		for i, x := range prev {
			if x.Source != r.Source || x.Seq != r.Seq-int64(len(prev)-i) {
				t.Fatalf("before[%d]: %s seq %d", i, x.Source, x.Seq)
			}
		}
		for i, x := range next {
			if x.Source != r.Source || x.Seq != r.Seq+int64(i+1) {
				t.Fatalf("after[%d]: %s seq %d", i, x.Source, x.Seq)
			}
		}
	}
	check(300, 100, 100, 100, 100) // gw1 seq 151
	check(4, 100, 100, 2, 100)     // gw1 seq 3
	check(597, 100, 100, 100, 1)   // gw2 seq 299
	check(300, 0, 0, 0, 0)
	if _, _, _, err := s.LogContext(ctx, 1<<40, 1, 1); apilens.ErrorCode(err) != apilens.ENOTFOUND {
		t.Fatalf("unknown id: %v, want ENOTFOUND", err)
	}
}

// testCountLogs: counts by classification over a half-open range.
func testCountLogs(t *testing.T, s apilens.Store) {
	ctx := context.Background()
	var recs []apilens.LogRecord
	for i := 0; i < 30; i++ {
		recs = append(recs, logRec("gw", i, apilens.LogAccessToken, []string{"A", "B", "B"}[i%3]))
	}
	recs = append(recs, logRec("gw", 10, "", ""))
	appendLogs(t, s, recs)
	got, err := s.CountLogs(ctx, apilens.LogQuery{From: base.Add(3 * time.Second), To: base.Add(12 * time.Second), Category: apilens.LogAccessToken})
	if err != nil {
		t.Fatal(err)
	}
	want := []apilens.LogCount{
		{Category: apilens.LogAccessToken, Status: "B", Code: "9009B", Parsed: true, Count: 6},
		{Category: apilens.LogAccessToken, Status: "A", Code: "9009A", Parsed: true, Count: 3},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("CountLogs: %v, want %v", got, want)
	}
	raw := logRec("gw", 11, "", "")
	raw.Parsed = false
	appendLogs(t, s, []apilens.LogRecord{raw})
	got, err = s.CountLogs(ctx, apilens.LogQuery{From: base.Add(10 * time.Second), To: base.Add(12 * time.Second), Source: "gw"})
	if err != nil {
		t.Fatal(err)
	}
	want = []apilens.LogCount{ // seconds 10 and 11: two of status B, one unclassified, one raw
		{Category: apilens.LogAccessToken, Status: "B", Code: "9009B", Parsed: true, Count: 2},
		{Category: "", Status: "", Code: "9009", Parsed: false, Count: 1},
		{Category: "", Status: "", Code: "9009", Parsed: true, Count: 1},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("CountLogs by parsed:\n got %v\nwant %v", got, want)
	}
	// base is minute-aligned: steps of 10 s put seconds 0-9, 10-19, 20-29
	// of the records in three buckets.
	tl, err := s.LogTimeline(ctx, apilens.LogQuery{From: base, To: base.Add(time.Minute)}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	wantTL := []apilens.LogPoint{
		{Time: base, Category: apilens.LogAccessToken, Count: 10},
		{Time: base.Add(10 * time.Second), Category: "", Count: 2},
		{Time: base.Add(10 * time.Second), Category: apilens.LogAccessToken, Count: 10},
		{Time: base.Add(20 * time.Second), Category: apilens.LogAccessToken, Count: 10},
	}
	if fmt.Sprint(tl) != fmt.Sprint(wantTL) {
		t.Fatalf("LogTimeline:\n got %v\nwant %v", tl, wantTL)
	}
}
