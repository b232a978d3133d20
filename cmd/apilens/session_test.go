package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/web"
	"github.com/apilens/apilens/web/ui"
)

// browser is a client with a cookie jar, as the dashboard runs in one.
type browser struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, http: &http.Client{Jar: jar}}
}

// call makes a request the way the app's fetch does (Sec-Fetch-Mode set,
// the CSRF header on writes once logged in) and returns status and body.
func (b *browser) call(method, path string, body any, hdr map[string]string) (int, []byte, http.Header) {
	b.t.Helper()
	var r io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, b.base+path, r)
	req.Header.Set("Sec-Fetch-Mode", "cors")
	if b.csrf != "" && method != "GET" {
		req.Header.Set("X-CSRF-Token", b.csrf)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out, resp.Header
}

type sessionAnswer struct {
	User struct {
		Name   string
		Roles  []string
		Tenant string
	}
	Personas  []string
	CSRFToken string
}

func (b *browser) login(user, pass string) sessionAnswer {
	b.t.Helper()
	code, body, _ := b.call("POST", "/api/v1/session", map[string]string{"username": user, "password": pass}, nil)
	if code != 200 {
		b.t.Fatalf("login %s: %d %s", user, code, body)
	}
	var s sessionAnswer
	if err := json.Unmarshal(body, &s); err != nil {
		b.t.Fatal(err)
	}
	b.csrf = s.CSRFToken
	return s
}

// TestDashboardSessions checks the dashboard's login on a real server:
// cookies and their flags, personas by role, the view check that makes
// the API refuse what the navigation hides, CSRF on writes, the users API,
// logout, and login throttling.
func TestDashboardSessions(t *testing.T) {
	m := startServer(t, t.TempDir(), nil)
	defer m.Close()
	ctx := context.Background()
	h, _ := web.HashPassword("dev-password-1")
	if err := m.Store.PutUser(ctx, &apilens.User{Name: "appdev", PasswordHash: h, Roles: []string{apilens.ScopeApplicationAnalytic}, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}

	// The first login of a fresh server, before any failure.
	admin := newBrowser(t, m.URL())
	s := admin.login("admin", "secret-test-password")

	anon := newBrowser(t, m.URL())
	if code, body, hdr := anon.call("GET", "/api/v1/session", nil, nil); code != 401 || hdr.Get("WWW-Authenticate") != "" {
		t.Fatalf("session without login: %d %s, challenge %q (the app's calls must get none)", code, body, hdr.Get("WWW-Authenticate"))
	}
	if code, body, _ := anon.call("POST", "/api/v1/session", map[string]string{"username": "admin", "password": "wrong"}, nil); code != 401 || !strings.Contains(string(body), "wrong user name or password") {
		t.Fatalf("wrong password: %d %s", code, body)
	}
	if strings.Join(s.Personas, ",") != strings.Join(web.Personas, ",") || s.CSRFToken == "" {
		t.Fatalf("admin session: %+v", s)
	}
	req, _ := http.NewRequest("POST", m.URL()+"/api/v1/session", strings.NewReader(`{"username":"admin","password":"secret-test-password"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.SameSite != http.SameSiteStrictMode || c.HttpOnly != (c.Name == "apilens_session") {
			t.Errorf("cookie %s: SameSite %v HttpOnly %v", c.Name, c.SameSite, c.HttpOnly)
		}
	}

	// The users API, with and without the CSRF token.
	newUser := map[string]any{"name": "analyst", "password": "analyst-pass-1", "roles": []string{apilens.ScopeBusinessAnalytics}}
	if code, body, _ := admin.call("POST", "/api/v1/users", newUser, map[string]string{"X-CSRF-Token": "forged"}); code != 403 || !strings.Contains(string(body), "X-CSRF-Token") {
		t.Fatalf("add user with a forged CSRF token: %d %s", code, body)
	}
	if code, body, _ := admin.call("POST", "/api/v1/users", newUser, nil); code != 201 {
		t.Fatalf("add user: %d %s", code, body)
	}
	if code, body, _ := admin.call("POST", "/api/v1/users", newUser, nil); code != 409 {
		t.Fatalf("add the same user again: %d %s", code, body)
	}
	bad := map[string]any{"name": "x", "password": "long-enough-1", "roles": []string{"root"}}
	if code, body, _ := admin.call("POST", "/api/v1/users", bad, nil); code != 400 || !strings.Contains(string(body), `unknown role \"root\"`) {
		t.Fatalf("add a user with an unknown role: %d %s", code, body)
	}
	var list struct{ Users []struct{ Name string } }
	code, body, _ := admin.call("GET", "/api/v1/users", nil, nil)
	if json.Unmarshal(body, &list); code != 200 || len(list.Users) != 3 || strings.Contains(string(body), "$2a$") {
		t.Fatalf("list users: %d %s", code, body)
	}

	// An application developer sees only Application Analytics, in the
	// navigation and in the API.
	dev := newBrowser(t, m.URL())
	if s := dev.login("appdev", "dev-password-1"); strings.Join(s.Personas, ",") != "application" {
		t.Fatalf("appdev personas: %v", s.Personas)
	}
	from := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	for view, want := range map[string]int{"application": 200, "business": 403, "monitoring": 403, "api": 403, "nonsense": 400} {
		if code, body, _ := dev.call("GET", "/api/v1/traffic/summary?from="+from+"&view="+view, nil, nil); code != want {
			t.Errorf("appdev summary view=%s: %d %s, want %d", view, code, body, want)
		}
	}
	if code, _, _ := dev.call("GET", "/api/v1/users", nil, nil); code != 403 {
		t.Errorf("appdev lists users: %d", code)
	}

	// Logout ends the session on the server, not only in the browser.
	if code, body, _ := admin.call("DELETE", "/api/v1/users/analyst", nil, nil); code != 204 {
		t.Fatalf("remove user: %d %s", code, body)
	}
	if code, _, _ := admin.call("DELETE", "/api/v1/session", nil, nil); code != 204 {
		t.Fatalf("logout: %d", code)
	}
	if code, _, _ := admin.call("GET", "/api/v1/traffic/summary", nil, nil); code != 401 {
		t.Fatalf("summary after logout: %d", code)
	}

	// Ten failed logins from one address, then even the right password
	// waits.
	for i := 0; i < 9; i++ {
		anon.call("POST", "/api/v1/session", map[string]string{"username": "admin", "password": "guess"}, nil)
	}
	code, body, hdr := anon.call("POST", "/api/v1/session", map[string]string{"username": "admin", "password": "secret-test-password"}, nil)
	if code != 429 || hdr.Get("Retry-After") == "" || !strings.Contains(string(body), "too many failed logins") {
		t.Fatalf("login after 10 failures: %d %s", code, body)
	}
}

// TestDashboardFiles checks how the app is served: any page path gives
// index.html (a copied link opens the app there), a mistyped API path is a
// JSON 404, and assets go out compressed with a long cache life.
func TestDashboardFiles(t *testing.T) {
	m := startServer(t, t.TempDir(), nil)
	defer m.Close()
	c := &client{t: t, base: m.URL(), user: "admin", pass: "secret-test-password"}
	code, body := c.do("GET", "/api/v1/trafic/summary", nil, nil)
	if code != 404 || !strings.Contains(string(body), "no such endpoint: /api/v1/trafic/summary") {
		t.Fatalf("mistyped API path: %d %s", code, body)
	}
	code, page := c.do("GET", "/business/overview?range=last-7-days", nil, nil)
	if code != 200 || !strings.Contains(string(page), "<html") {
		t.Fatalf("a dashboard path: %d %s", code, page)
	}
	if ui.Files() == nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the dashboard is not built into this test binary: make test builds it first")
		}
		t.Skip("the dashboard is not built (run make build, or make test); skipping the asset checks")
	}
	script := regexp.MustCompile(`src="(/assets/[^"]+\.js)"`).FindSubmatch(page)
	if script == nil {
		t.Fatalf("no script in index.html: %s", page)
	}
	plain, err := http.Get(m.URL() + string(script[1]))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := io.ReadAll(plain.Body)
	plain.Body.Close()
	req, _ := http.NewRequest("GET", m.URL()+string(script[1]), nil)
	req.Header.Set("Accept-Encoding", "gzip") // set by hand, so Go's client leaves the body compressed
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatalf("asset with Accept-Encoding gzip: %v (Content-Encoding %q)", err, resp.Header.Get("Content-Encoding"))
	}
	got, _ := io.ReadAll(zr)
	if !bytes.Equal(got, want) || len(want) == 0 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("compressed asset: %d bytes, plain %d; headers %v", len(got), len(want), resp.Header)
	}
}
