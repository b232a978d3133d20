package web

import (
	"bytes"
	"compress/gzip"
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
	files := ui.Files()
	s.handle("GET /api/v1/", func(w http.ResponseWriter, r *http.Request) error {
		return apilens.Errorf(apilens.ENOTFOUND, "no such endpoint: %s", r.URL.Path)
	})
	if files == nil {
		s.mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			notBuiltPage.Execute(w, nil)
		})
		return
	}
	static := http.FileServerFS(files)
	zipped := &gzipCache{files: files, m: map[string][]byte{}}
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
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		http.ServeFileFS(w, r, files, "index.html")
	})
}

// gzipCache compresses each asset once, on first request: the charting
// library alone is 640 kB, a third of that compressed, and the assets
// never change while the binary runs.
type gzipCache struct {
	files fs.FS
	mu    sync.Mutex
	m     map[string][]byte
}

// get returns the compressed file, or nil when it does not exist.
func (c *gzipCache) get(name string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if z, ok := c.m[name]; ok {
		return z
	}
	b, err := fs.ReadFile(c.files, name)
	if err != nil {
		return nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	c.m[name] = buf.Bytes()
	return c.m[name]
}
