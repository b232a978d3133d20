package web

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/web/ui"
)

// notBuiltPage stands in for the dashboard in a binary built without it
// (plain `go build`): it says how to get it, rather than pretend.
var notBuiltPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>apilens</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1d2330}
code{background:#eef1f5;padding:.1em .3em;border-radius:3px}</style></head>
<body><h1>apilens is running</h1>
<p>This binary was built without the web dashboard: build it with <code>make build</code>
(which runs the front end's build under <code>web/ui</code>). The REST API is available:
see <code>docs/api.md</code>.</p></body></html>`))

// registerUIRoutes serves the dashboard: its hashed assets with a long
// cache life, and index.html for every other page path, so that a copied
// link to any view opens the app there.
func (s *Server) registerUIRoutes() {
	files := s.opts.UI
	if files == nil {
		files = ui.Files()
	}
	s.handle("GET /api/v1/", func(w http.ResponseWriter, r *http.Request) error {
		return apilens.Errorf(apilens.ENOTFOUND, "no such endpoint: %s", r.URL.Path)
	})
	var index []byte
	if files != nil {
		index, _ = fs.ReadFile(files, "index.html")
	}
	if index == nil {
		s.mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			notBuiltPage.Execute(w, nil)
		})
		return
	}
	static := http.FileServerFS(files)
	zipped := &gzipCache{files: files, m: map[string]*gzipped{}}
	s.mux.HandleFunc("GET /assets/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Add("Vary", "Accept-Encoding")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			if z := zipped.get(strings.TrimPrefix(r.URL.Path, "/")); z != nil {
				w.Header().Set("Content-Type", mime.TypeByExtension(path.Ext(r.URL.Path)))
				w.Header().Set("Content-Encoding", "gzip")
				w.Write(z)
				return
			}
		}
		static.ServeHTTP(w, r)
	})
	s.mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if st, err := fs.Stat(files, name); name != "" && err == nil && !st.IsDir() {
			static.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		// The page carries the session of the request's cookie (see
		// withSession), so it is never stored, nor shared between users.
		h.Set("Cache-Control", "no-store")
		h.Set("Vary", "Cookie")
		h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.Write(s.withSession(r, index))
	})
}

// sessionElement is the id of the element of index.html that holds the
// session (the app's src/api/session.ts reads it).
const sessionElement = "apilens-session"

// withSession returns the app's index.html with the session of the
// request's cookie written into it, as GET /api/v1/session would answer:
// the app then knows at once who is logged in, and its first data requests
// go out without waiting for that answer. Without a live session the page
// is as built, and the app asks the API; so it does when the browser left
// the SameSite=Strict cookie out (a link followed from another site), and
// the session is found after all. The JSON sits in a script element of
// type application/json, which is data, never run (the CSP allows no
// inline script), and json.Marshal escapes "<", so it cannot end the
// element early.
func (s *Server) withSession(r *http.Request, index []byte) []byte {
	u, sess, err := s.auth.fromCookie(r)
	if err != nil || u == nil {
		return index
	}
	b, err := json.Marshal(sessionBody{User: newUserBody(u), Personas: personasOf(u), CSRFToken: sess.csrf})
	at := bytes.Index(index, []byte("</head>"))
	if err != nil || at < 0 {
		return index
	}
	var page bytes.Buffer
	page.Grow(len(index) + len(b) + 80)
	page.Write(index[:at])
	page.WriteString(`<script type="application/json" id="` + sessionElement + `">`)
	page.Write(b)
	page.WriteString("</script>\n")
	page.Write(index[at:])
	return page.Bytes()
}

// gzipCache holds the assets compressed: the build's gzip twin of each
// (name.gz, see vite.config.ts), or, for a file without one, the file
// compressed here once, on first request (the assets never change while the
// binary runs). Each file apart, so no request waits for another's.
type gzipCache struct {
	files fs.FS
	mu    sync.Mutex
	m     map[string]*gzipped
}

type gzipped struct {
	once sync.Once
	z    []byte
}

// get returns the compressed file, or nil when it does not exist.
func (c *gzipCache) get(name string) []byte {
	if st, err := fs.Stat(c.files, name); err != nil || st.IsDir() {
		return nil
	}
	c.mu.Lock()
	e := c.m[name]
	if e == nil {
		e = &gzipped{}
		c.m[name] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		if z, err := fs.ReadFile(c.files, name+".gz"); err == nil {
			e.z = z
			return
		}
		b, err := fs.ReadFile(c.files, name)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(b)
		zw.Close()
		e.z = buf.Bytes()
	})
	return e.z
}
