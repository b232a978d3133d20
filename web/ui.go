package web

import (
	"html/template"
	"net/http"
)

// The dashboard (a single-page app) is not built yet; until it is, the
// root page says so and lists the API, rather than pretend.
var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>apilens</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1d2330}
code{background:#eef1f5;padding:.1em .3em;border-radius:3px}</style></head>
<body><h1>apilens is running</h1>
<p>The web dashboard is not built yet. The REST API is available (HTTP Basic or a bearer token):</p>
<ul>
<li><code>POST /api/v1/events</code> — publish 4.x analytics events (NDJSON or a JSON array)</li>
<li><code>GET /api/v1/traffic/summary?from&amp;to</code></li>
<li><code>GET /api/v1/traffic/timeseries?from&amp;to&amp;granularity&amp;groupBy</code></li>
<li><code>GET /api/v1/traffic/top?dimension&amp;from&amp;to&amp;limit</code></li>
<li><code>GET /metrics</code>, <code>/healthz</code>, <code>/readyz</code></li>
</ul></body></html>`))

func (s *Server) registerUIRoutes() {
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		indexPage.Execute(w, nil)
	})
}
