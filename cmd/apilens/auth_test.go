package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/web"
)

// TestRolesTokensAndTenants checks what each kind of account may do, on a
// real server: publishers publish but do not read, viewers read but do not
// publish, a tenant-bound user sees only its tenant, bearer tokens work and
// unknown ones do not.
func TestRolesTokensAndTenants(t *testing.T) {
	m := startServer(t, t.TempDir(), nil)
	defer m.Close()
	ctx := context.Background()
	put := func(name, tenant string, roles ...string) {
		h, err := web.HashPassword(name + "-pw")
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Store.PutUser(ctx, &apilens.User{Name: name, PasswordHash: h, Roles: roles, Tenant: tenant, Created: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	put("gw", "", apilens.RolePublisher)
	put("analyst", "", apilens.ScopeBusinessAnalytics)
	put("acme-dev", "acme.com", apilens.ScopeApplicationAnalytic)
	if err := m.Store.PutToken(ctx, &apilens.APIToken{Hash: web.HashToken("al_secret"), User: "gw", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}

	now := time.Now().UTC()
	var body bytes.Buffer
	for i, tenant := range []string{"carbon.super", "acme.com", "acme.com"} {
		body.WriteString(`{"requestTimestamp":"` + now.Add(-time.Duration(i)*time.Minute).Format(time.RFC3339) +
			`","apiName":"Pizza","apiCreatorTenantDomain":"` + tenant + `","proxyResponseCode":200,"responseLatency":10,"eventType":"response"}` + "\n")
	}
	// Published gzip'd with the publisher's bearer token.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(body.Bytes())
	zw.Close()
	req, _ := http.NewRequest("POST", m.URL()+"/api/v1/events", &gz)
	req.Header.Set("Authorization", "Bearer al_secret")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("publish with a bearer token: %s", resp.Status)
	}

	summary := "/api/v1/traffic/summary?from=" + url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339)) + "&to=" + url.QueryEscape(now.Add(time.Minute).Format(time.RFC3339))
	as := func(user string) *client { return &client{t: t, base: m.URL(), user: user, pass: user + "-pw"} }
	for _, c := range []struct {
		who          *client
		method, path string
		want         int
	}{
		{as("gw"), "GET", summary, 403},
		{as("analyst"), "POST", "/api/v1/events", 403},
		{as("acme-dev"), "GET", summary + "&tenant=carbon.super", 403},
		{&client{t: t, base: m.URL()}, "GET", summary, 401},
	} {
		if code, b := c.who.do(c.method, c.path, body.Bytes(), nil); code != c.want {
			t.Errorf("%s %s %s: %d %s, want %d", c.who.user, c.method, c.path, code, b, c.want)
		}
	}
	req, _ = http.NewRequest("GET", m.URL()+summary, nil)
	req.Header.Set("Authorization", "Bearer al_wrong")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Fatalf("unknown bearer token: %v %v", resp.Status, err)
	}

	wait := func(c *client, q string, want int64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			var s summaryAnswer
			c.getJSON(q, &s)
			if s.Requests == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s %s: %d requests, want %d", c.user, q, s.Requests, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	wait(as("analyst"), summary, 3)
	wait(as("acme-dev"), summary, 2) // only its tenant's events, without asking

	code, b := as("analyst").do("GET", "/api/v1/traffic/top?dimension=tenant&format=csv&from="+url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339)), nil, nil)
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if code != 200 || err != nil || len(rows) != 3 || rows[0][0] != "tenant" || rows[1][0] != "acme.com" || rows[1][1] != "2" {
		t.Fatalf("CSV export: %d %v %q", code, err, b)
	}
}
