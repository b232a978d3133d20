package web

import (
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"

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
	s.handle("GET /api/", func(w http.ResponseWriter, r *http.Request) error {
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
	s.mux.HandleFunc("GET /assets/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
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
