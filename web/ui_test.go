package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/apilens/apilens"
)

// users is a UserStore in memory.
type users map[string]*apilens.User

func (m users) PutUser(_ context.Context, u *apilens.User) error { m[u.Name] = u; return nil }
func (m users) User(_ context.Context, name string) (*apilens.User, error) {
	if u := m[name]; u != nil {
		return u, nil
	}
	return nil, apilens.Errorf(apilens.ENOTFOUND, "no user %q", name)
}
func (m users) Users(context.Context) ([]*apilens.User, error) { return nil, nil }
func (m users) DeleteUser(_ context.Context, name string) error {
	delete(m, name)
	return nil
}
func (m users) PutToken(context.Context, *apilens.APIToken) error { return nil }
func (m users) Token(context.Context, string) (*apilens.APIToken, error) {
	return nil, apilens.Errorf(apilens.ENOTFOUND, "no token")
}

const testIndex = `<!doctype html>
<html><head><title>apilens</title><script type="module" src="/assets/boot.js"></script></head>
<body><div id="root"></div></body></html>`

// TestIndexSession checks that a page path answers index.html with the
// session of the request's cookie in it, as GET /api/v1/session answers it,
// and the page as built without a live session.
func TestIndexSession(t *testing.T) {
	hash, err := HashPassword("pw-1234567")
	if err != nil {
		t.Fatal(err)
	}
	// A name that would end the script element, were it not escaped.
	odd := `x</script><script>alert(1)</script>`
	store := users{
		"admin": {Name: "admin", PasswordHash: hash, Roles: []string{apilens.RoleAdmin}},
		odd:     {Name: odd, PasswordHash: hash, Roles: []string{apilens.ScopeApplicationAnalytic}},
	}
	s := New(Options{Users: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), UI: fstest.MapFS{
		"index.html":     {Data: []byte(testIndex)},
		"assets/boot.js": {Data: []byte("export {}")},
	}})
	do := func(method, path, body string, cookies []*http.Cookie) *http.Response {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		for _, c := range cookies {
			req.AddCookie(c)
		}
		w := httptest.NewRecorder()
		s.mux.ServeHTTP(w, req)
		return w.Result()
	}
	read := func(resp *http.Response) string {
		t.Helper()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	login := func(name string) []*http.Cookie {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"username": name, "password": "pw-1234567"})
		resp := do("POST", "/api/v1/session", string(body), nil)
		if resp.StatusCode != 200 {
			t.Fatalf("login %s: %d %s", name, resp.StatusCode, read(resp))
		}
		return resp.Cookies()
	}
	// The session element's JSON, or "" when the page has none.
	inPage := func(page string) string {
		t.Helper()
		open := `<script type="application/json" id="apilens-session">`
		i := strings.Index(page, open)
		if i < 0 {
			return ""
		}
		rest := page[i+len(open):]
		j := strings.Index(rest, "</script>")
		if j < 0 || !strings.Contains(rest[j:], "</head>") {
			t.Fatalf("the session element does not end before </head>: %s", page)
		}
		return rest[:j]
	}

	resp := do("GET", "/business/overview?range=last-7-days", "", nil)
	if page := read(resp); page != testIndex || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("without a cookie: the page as built, never stored; got %q, Cache-Control %q", page, resp.Header.Get("Cache-Control"))
	}
	ended := []*http.Cookie{{Name: sessionCookie, Value: "no-such-session"}}
	if page := read(do("GET", "/", "", ended)); page != testIndex {
		t.Fatalf("with an ended session: the page as built; got %q", page)
	}

	for _, name := range []string{"admin", odd} {
		cookies := login(name)
		want := read(do("GET", "/api/v1/session", "", cookies))
		page := read(do("GET", "/business/overview", "", cookies))
		got := inPage(page)
		var a, b sessionBody
		if err := json.Unmarshal([]byte(got), &a); err != nil {
			t.Fatalf("%s: the session in the page is not JSON (%v): %s", name, err, page)
		}
		json.Unmarshal([]byte(want), &b)
		if a.User.Name != name || a.CSRFToken == "" || a.CSRFToken != b.CSRFToken || strings.Join(a.Personas, ",") != strings.Join(b.Personas, ",") {
			t.Errorf("%s: the page's session %s, the API's %s", name, got, want)
		}
		if strings.Count(page, "</script>") != strings.Count(testIndex, "</script>")+1 {
			t.Errorf("%s: the user's name ended the element: %s", name, page)
		}
	}
	// Assets are served as they are.
	if body := read(do("GET", "/assets/boot.js", "", nil)); body != "export {}" {
		t.Errorf("asset: %q", body)
	}
}

// TestAssetsGzip checks that an asset goes out as the build's gzip twin
// when there is one, compressed by the server when there is none, and as
// it is to a client that does not accept gzip.
func TestAssetsGzip(t *testing.T) {
	zip := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	s := New(Options{Users: users{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), UI: fstest.MapFS{
		"index.html":     {Data: []byte(testIndex)},
		"assets/a.js":    {Data: []byte("export const a = 1")},
		"assets/a.js.gz": {Data: zip("the twin")}, // not a.js's bytes: shows which one went out
		"assets/b.css":   {Data: []byte("body{}")},
	}})
	get := func(path string, gz bool) (body, encoding string) {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		w := httptest.NewRecorder()
		s.mux.ServeHTTP(w, req)
		resp := w.Result()
		var r io.Reader = resp.Body
		if enc := resp.Header.Get("Content-Encoding"); enc == "gzip" {
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			r = zr
		}
		b, _ := io.ReadAll(r)
		return string(b), resp.Header.Get("Content-Encoding")
	}
	for _, c := range []struct {
		path     string
		gz       bool
		body     string
		encoding string
	}{
		{"/assets/a.js", true, "the twin", "gzip"},
		{"/assets/a.js", false, "export const a = 1", ""},
		{"/assets/b.css", true, "body{}", "gzip"},
		{"/assets/b.css", true, "body{}", "gzip"}, // from the cache
		{"/assets/b.css", false, "body{}", ""},
	} {
		if body, enc := get(c.path, c.gz); body != c.body || enc != c.encoding {
			t.Errorf("%s (gzip accepted: %v): %q, Content-Encoding %q; want %q, %q", c.path, c.gz, body, enc, c.body, c.encoding)
		}
	}
	if body, _ := get("/assets/nope.js", true); !strings.Contains(body, "404") && !strings.Contains(strings.ToLower(body), "not found") {
		t.Errorf("a missing asset: %q", body)
	}
}
