package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apilens/apilens"
	"github.com/apilens/apilens/query"
)

func (s *Server) registerTrafficRoutes() {
	s.authed("GET /api/v1/traffic/summary", canViewTraffic, s.handleSummary)
	s.authed("GET /api/v1/traffic/timeseries", canViewTraffic, s.handleTimeseries)
	s.authed("GET /api/v1/traffic/top", canViewTraffic, s.handleTop)
}

// rangeParams reads from and to (RFC 3339). Missing, they default to the
// last 24 hours.
func rangeParams(r *http.Request) (from, to time.Time, err error) {
	q := r.URL.Query()
	to = time.Now()
	if v := q.Get("to"); v != "" {
		if to, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return from, to, apilens.Errorf(apilens.EINVALID, "to: %q is not an RFC 3339 time", v)
		}
	}
	from = to.Add(-24 * time.Hour)
	if v := q.Get("from"); v != "" {
		if from, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return from, to, apilens.Errorf(apilens.EINVALID, "from: %q is not an RFC 3339 time", v)
		}
	}
	return from, to, nil
}

// filterParams reads the global filters, forcing the user's own tenant on
// a tenant-bound user: tenant isolation happens here, on the server.
func filterParams(r *http.Request, u *apilens.User) (query.Filter, error) {
	q := r.URL.Query()
	f := query.Filter{
		Tenant: q.Get("tenant"), API: q.Get("api"), APIVersion: q.Get("apiVersion"),
		Application: q.Get("application"),
		// Country codes are stored upper-case (ISO 3166-1 alpha-2).
		Country: strings.ToUpper(q.Get("country")),
	}
	if u.Tenant != "" {
		if f.Tenant != "" && f.Tenant != u.Tenant {
			return f, apilens.Errorf(apilens.EFORBIDDEN, "user %q may only see tenant %q", u.Name, u.Tenant)
		}
		f.Tenant = u.Tenant
	}
	return f, nil
}

// viewPersonas are the personas whose pages query traffic.
var viewPersonas = []string{"business", "api", "application", "monitoring"}

// checkView enforces the view parameter: the dashboard persona asking. A
// user may query only for a persona of theirs, so the API refuses what
// the navigation hides. Without a view (scripts), any analytics role may
// query.
func checkView(r *http.Request, u *apilens.User) error {
	v := r.URL.Query().Get("view")
	if v == "" {
		return nil
	}
	if !slices.Contains(viewPersonas, v) {
		return apilens.Errorf(apilens.EINVALID, "view: %q is not one of %s", v, strings.Join(viewPersonas, ", "))
	}
	if !mayOpen(u, v) {
		return apilens.Errorf(apilens.EFORBIDDEN, "user %q may not see %s analytics", u.Name, v)
	}
	return nil
}

// queryParams reads the view, the range and the filters every traffic
// query takes.
func queryParams(r *http.Request, u *apilens.User) (from, to time.Time, f query.Filter, err error) {
	if err = checkView(r, u); err != nil {
		return
	}
	if from, to, err = rangeParams(r); err != nil {
		return
	}
	f, err = filterParams(r, u)
	return
}

func limitParam(r *http.Request, def int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 10000 {
		return 0, apilens.Errorf(apilens.EINVALID, "limit: %q is not a number between 1 and 10000", v)
	}
	return n, nil
}

// handleSummary is GET /api/v1/traffic/summary.
func (s *Server) handleSummary(w http.ResponseWriter, r *http.Request, u *apilens.User) error {
	from, to, f, err := queryParams(r, u)
	if err != nil {
		return err
	}
	sum, err := s.opts.Query.Summary(r.Context(), from, to, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sum)
	return nil
}

// handleTimeseries is GET /api/v1/traffic/timeseries.
func (s *Server) handleTimeseries(w http.ResponseWriter, r *http.Request, u *apilens.User) error {
	from, to, f, err := queryParams(r, u)
	if err != nil {
		return err
	}
	var g apilens.Granularity
	if v := r.URL.Query().Get("granularity"); v != "" && v != "auto" {
		if g, err = apilens.ParseGranularity(v); err != nil {
			return apilens.Errorf(apilens.EINVALID, "granularity: %v", err)
		}
	}
	limit, err := limitParam(r, 10)
	if err != nil {
		return err
	}
	ts, err := s.opts.Query.Timeseries(r.Context(), from, to, g, r.URL.Query().Get("groupBy"), f, r.URL.Query().Get("rank"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ts)
	return nil
}

// topBody is the answer of GET /api/v1/traffic/top.
type topBody struct {
	Dimension string `json:"dimension"`
	*query.TopList
}

// handleTop is GET /api/v1/traffic/top; format=csv exports the table.
func (s *Server) handleTop(w http.ResponseWriter, r *http.Request, u *apilens.User) error {
	from, to, f, err := queryParams(r, u)
	if err != nil {
		return err
	}
	limit, err := limitParam(r, 10)
	if err != nil {
		return err
	}
	dim := r.URL.Query().Get("dimension")
	if dim == "" {
		return apilens.Errorf(apilens.EINVALID, "dimension is required")
	}
	top, err := s.opts.Query.Top(r.Context(), dim, from, to, f, r.URL.Query().Get("rank"), limit)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") == "csv" {
		return writeTopCSV(w, dim, top.Items)
	}
	writeJSON(w, http.StatusOK, topBody{Dimension: dim, TopList: top})
	return nil
}

func writeTopCSV(w http.ResponseWriter, dim string, items []query.Item) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "top-"+dim+".csv"))
	cw := csv.NewWriter(w)
	dims := query.GroupDims[dim]
	header := append(append([]string{}, dims...), "requests", "successful", "faults", "throttled", "errors4xx", "errors5xx", "latency_avg_ms", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms")
	cw.Write(header)
	for _, it := range items {
		row := make([]string, 0, len(header))
		for _, d := range dims {
			row = append(row, it.Labels[d])
		}
		for _, n := range []int64{it.Requests, it.Successful, it.Faults, it.Throttled, it.Errors4xx, it.Errors5xx} {
			row = append(row, strconv.FormatInt(n, 10))
		}
		if l := it.Latency; l != nil {
			for _, v := range []float64{l.Avg, l.P50, l.P95, l.P99} {
				row = append(row, strconv.FormatFloat(v, 'f', -1, 64))
			}
		} else {
			row = append(row, "", "", "", "")
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}
