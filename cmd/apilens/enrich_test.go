package main

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/apilens/apilens/config"
)

// TestEnrichment posts events with client addresses and user agents and
// reads them back by country, city and browser: the consumer enriches every
// event before the rollups.
func TestEnrichment(t *testing.T) {
	db := writeCityDB(t)
	m := startServer(t, t.TempDir(), func(c *config.Config) { c.Enrich.GeoIPDatabase = db })
	defer m.Close()
	c := &client{t: t, base: m.URL(), user: "admin", pass: "secret-test-password"}

	const (
		chrome  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
		firefox = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
	)
	now := time.Now().UTC()
	ts := now.Add(-2 * time.Hour).Format(time.RFC3339)
	var body []byte
	add := func(n int, ua, ip, properties string) {
		for range n {
			body = fmt.Appendf(body, `{"requestTimestamp":%q,"apiName":"PizzaShackAPI","apiCreatorTenantDomain":"carbon.super","proxyResponseCode":200,"responseLatency":12,"userAgentHeader":%q,"userIp":%q,"properties":%s}`+"\n",
				ts, ua, ip, properties)
		}
	}
	add(3, chrome, "81.2.69.142", `{}`)
	add(2, firefox, "10.0.0.5", `{"X-Forwarded-For":"89.160.20.130, 10.0.0.1"}`)
	add(1, "curl/8.5.0", "192.168.1.1", `{}`)
	if code, resp := c.do("POST", "/api/v1/events", body, map[string]string{"Content-Type": "application/x-ndjson"}); code != 202 {
		t.Fatalf("post: %d %s", code, resp)
	}
	waitFlushed(t, c, 6, now)

	top := func(query string) map[string]int64 {
		t.Helper()
		var ans struct {
			Items []struct {
				Key      string
				Labels   map[string]string
				Requests int64
			}
		}
		c.getJSON("/api/v1/traffic/top?from="+url.QueryEscape(now.Add(-24*time.Hour).Format(time.RFC3339))+
			"&to="+url.QueryEscape(now.Add(time.Hour).Format(time.RFC3339))+"&"+query, &ans)
		got := map[string]int64{}
		for _, it := range ans.Items {
			k := it.Key
			if n := it.Labels["countryName"]; n != "" {
				k += " (" + n + ")"
			}
			got[k] = it.Requests
		}
		return got
	}
	check := func(query string, want map[string]int64) {
		t.Helper()
		got := top(query)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("top?%s = %v, want %v", query, got, want)
		}
	}
	check("dimension=country", map[string]int64{"GB (United Kingdom)": 3, "SE (Sweden)": 2, "N/A (N/A)": 1})
	check("dimension=browser", map[string]int64{"Chrome": 3, "Firefox": 2, "curl": 1})
	check("dimension=os", map[string]int64{"Windows": 3, "Ubuntu": 2, "Other": 1})
	check("dimension=city", map[string]int64{"GB London (United Kingdom)": 3, "SE Linköping (Sweden)": 2, "N/A N/A (N/A)": 1})
	check("dimension=city&country=se", map[string]int64{"SE Linköping (Sweden)": 2})
}

// writeCityDB writes a small GeoLite2-City-like database.
func writeCityDB(t *testing.T) string {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-City", RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, loc := range map[string][2]string{"81.2.69.0/24": {"GB", "London"}, "89.160.20.128/25": {"SE", "Linköping"}} {
		_, n, _ := net.ParseCIDR(cidr)
		rec := mmdbtype.Map{
			"country": mmdbtype.Map{"iso_code": mmdbtype.String(loc[0])},
			"city":    mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(loc[1])}},
		}
		if err := w.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "city.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	return path
}
