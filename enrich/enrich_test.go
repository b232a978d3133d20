package enrich

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/apilens/apilens"
)

// userAgentCases are real headers of current browsers, mobile apps, bots
// and API clients, with what uap-core says of them.
var userAgentCases = []struct {
	header, browser, os, device string
}{
	// Desktop browsers.
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome", "Windows", "Other"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox", "Windows", "Other"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge", "Windows", "Other"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari", "Mac OS X", "Mac"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge", "Mac OS X", "Mac"},
	{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome", "Linux", "Other"},
	{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox", "Ubuntu", "Other"},
	// Mobile browsers: Android (with Chrome's reduced "K" model) and iOS.
	{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome Mobile", "Android", "K"},
	{"Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.104 Mobile Safari/537.36", "Chrome Mobile", "Android", "Samsung SM-S921B"},
	{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0", "Edge Mobile", "Android", "Pixel 8"},
	{"Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", "Firefox Mobile", "Android", "Generic Smartphone"},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Mobile Safari", "iOS", "iPhone"},
	{"Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", "Chrome Mobile iOS", "iOS", "iPad"},
	// Mobile apps.
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/441.0.0.32.113;FBBV/539209830;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.1.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBRV/541186542]", "Facebook", "iOS", "iPhone"},
	{"Dalvik/2.1.0 (Linux; U; Android 13; SM-A536B Build/TP1A.220624.014)", "Android", "Android", "Samsung SM-A536B"},
	{"PizzaShack/3.2.1 CFNetwork/1494.0.7 Darwin/23.4.0", "PizzaShack", "iOS", "iOS-Device"},
	// Bots.
	{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot", "Other", "Spider"},
	{"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot", "Android", "Spider"},
	// API clients.
	{"curl/8.5.0", "curl", "Other", "Other"},
	{"okhttp/4.12.0", "okhttp", "Other", "Other"},
	{"Go-http-client/1.1", "Go-http-client", "Other", "Other"},
	{"Go-http-client/2.0", "Go-http-client", "Other", "Other"},
	{"python-requests/2.32.3", "Python Requests", "Other", "Other"},
	{"PostmanRuntime/7.42.0", "PostmanRuntime", "Other", "Other"},
	{"Apache-HttpClient/4.5.14 (Java/17.0.9)", "Apache-HttpClient", "Other", "Other"},
	// Nothing to go by.
	{"node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "Other", "Other", "Other"},
	{apilens.Unknown, "Other", "Other", "Other"},
	{"", "Other", "Other", "Other"},
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// ruleSets are the user-agent rules to test: the built-in set always,
// Debian's when installed (CI installs it, so there it must be).
func ruleSets(t *testing.T) map[string]*userAgents {
	t.Helper()
	p, err := newParser(nil, "built in")
	if err != nil {
		t.Fatal(err)
	}
	cache, err := lru.New[string, client](100)
	if err != nil {
		t.Fatal(err)
	}
	sets := map[string]*userAgents{"built in": {parser: p, cache: cache}}
	if _, err := os.Stat(DebianUserAgentRegexes); err == nil {
		u, err := newUserAgents(DebianUserAgentRegexes, 100, discard())
		if err != nil {
			t.Fatal(err)
		}
		sets["debian"] = u
	} else if os.Getenv("CI") != "" {
		t.Errorf("CI: %s missing; .ci/run installs Debian's uap-core", DebianUserAgentRegexes)
	}
	return sets
}

func TestUserAgents(t *testing.T) {
	for name, u := range ruleSets(t) {
		t.Run(name, func(t *testing.T) {
			for pass := range 2 { // cold, then from the cache
				for _, c := range userAgentCases {
					got := u.parse(c.header)
					if want := (client{c.browser, c.os, c.device}); got != want {
						t.Errorf("pass %d: %.70q = %+v, want %+v", pass, c.header, got, want)
					}
				}
			}
		})
	}
}

func TestUserAgentRegexesOverride(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "regexes.yaml")
	os.WriteFile(good, []byte(`user_agent_parsers:
  - regex: '(PizzaShack)/(\d+)'
    family_replacement: 'Pizza Shack app'
os_parsers:
  - regex: '(Darwin)'
    os_replacement: 'Apple'
device_parsers:
  - regex: 'CFNetwork'
    device_replacement: 'Phone'
`), 0o600)
	u, err := newUserAgents(good, 10, discard())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.parse("PizzaShack/3 CFNetwork/1494.0.7 Darwin/23.4.0"), (client{"Pizza Shack app", "Apple", "Phone"}); got != want {
		t.Errorf("parse = %+v, want %+v", got, want)
	}
	if got, want := u.parse("curl/8.5.0"), (client{Other, Other, Other}); got != want {
		t.Errorf("a header no rule matches = %+v, want %+v", got, want)
	}

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("user_agent_parsers:\n  - regex: '(unclosed'\n"), 0o600)
	notYAML := filepath.Join(dir, "not.yaml")
	os.WriteFile(notYAML, []byte("{{{"), 0o600)
	empty := filepath.Join(dir, "empty.yaml")
	os.WriteFile(empty, []byte("os_parsers: []\n"), 0o600)
	for path, want := range map[string]string{
		bad:                        "compile user-agent rules " + bad,
		notYAML:                    "parse user-agent rules",
		empty:                      "no user_agent_parsers",
		filepath.Join(dir, "nope"): "no such file",
	} {
		if _, err := New(Options{UserAgentRegexes: path, TorGeoIP: "testdata/geoip"}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New with rules %s: %v, want an error with %q", filepath.Base(path), err, want)
		}
	}
}

func TestFamilyBounded(t *testing.T) {
	long := strings.Repeat("é", 150) // 300 bytes
	got := family(long)
	if len(got) > maxFamily || !strings.HasPrefix(long, got) || len(got) != 200 {
		t.Errorf("family of 300 bytes = %d bytes", len(got))
	}
	if family("  ") != Other {
		t.Error("a blank family is not Other")
	}
}

// writeMMDB writes a small GeoLite2-City-like database.
func writeMMDB(t testing.TB) string {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-City", RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	city := func(cc, name string) mmdbtype.Map {
		m := mmdbtype.Map{"country": mmdbtype.Map{
			"iso_code": mmdbtype.String(cc),
			"names":    mmdbtype.Map{"en": mmdbtype.String(cc + " in English")},
		}}
		if name != "" {
			m["city"] = mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(name), "de": mmdbtype.String("x")}}
		}
		return m
	}
	for cidr, rec := range map[string]mmdbtype.Map{
		"81.2.69.0/24":     city("GB", "London"),
		"89.160.20.128/25": city("SE", "Linköping"),
		"175.16.199.0/24":  city("CN", ""),
		"2a02:cf40::/29":   city("DE", "Berlin"),
		// An anycast network: registered somewhere, located nowhere.
		"1.1.1.0/24": {"registered_country": mmdbtype.Map{"iso_code": mmdbtype.String("AU")}},
	} {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Insert(n, rec); err != nil {
			t.Fatalf("insert %s: %v", cidr, err)
		}
	}
	path := filepath.Join(t.TempDir(), "city.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func newEnricher(t *testing.T, opts Options) *Enricher {
	t.Helper()
	opts.Logger = discard()
	x, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

func TestGeoIPDatabase(t *testing.T) {
	x := newEnricher(t, Options{GeoIPDatabase: writeMMDB(t)})
	for _, c := range []struct {
		ip, properties, country, city string
	}{
		{"81.2.69.142", "", "GB", "London"},
		{"89.160.20.130", "{}", "SE", "Linköping"},
		{"175.16.199.7", "", "CN", "N/A"},        // no city in the record
		{"1.1.1.1", "", "AU", "N/A"},             // registered country only
		{"2a02:cf40::1", "", "DE", "Berlin"},     // IPv6
		{"::ffff:81.2.69.1", "", "GB", "London"}, // IPv4-mapped
		{"8.8.8.8", "", "N/A", "N/A"},            // not in the database
		{"10.1.2.3", "", "N/A", "N/A"},           // private
		{apilens.Unknown, "", "N/A", "N/A"},
		// X-Forwarded-For: the first public address, in any case of the name.
		{"10.0.0.5", `{"X-Forwarded-For":"192.168.1.9, 81.2.69.142, 89.160.20.130"}`, "GB", "London"},
		{"10.0.0.5", `{"x-forwarded-for":"89.160.20.130:51234"}`, "SE", "Linköping"},
		{"81.2.69.1", `{"api":"x","X-FORWARDED-FOR":"[2a02:cf40::7]:443"}`, "DE", "Berlin"},
		// Nothing public in it: the userIp.
		{"89.160.20.130", `{"X-Forwarded-For":"10.0.0.1, 127.0.0.1"}`, "SE", "Linköping"},
		// Not JSON, or not a string: the userIp.
		{"89.160.20.130", `{"X-Forwarded-For":`, "SE", "Linköping"},
		{"89.160.20.130", `{"X-Forwarded-For":["81.2.69.142"]}`, "SE", "Linköping"},
	} {
		for pass := range 2 {
			e := &apilens.Event{UserIP: c.ip, Properties: []byte(c.properties)}
			x.Enrich(e)
			if e.Country != c.country || e.City != c.city {
				t.Errorf("pass %d: %s %s = %s/%s, want %s/%s", pass, c.ip, c.properties, e.Country, e.City, c.country, c.city)
			}
		}
	}
	if _, err := New(Options{GeoIPDatabase: "testdata/geoip"}); err == nil || !strings.Contains(err.Error(), "open geoip database testdata/geoip") {
		t.Errorf("New with a file that is no MMDB: %v", err)
	}
}

func TestTorFallback(t *testing.T) {
	x := newEnricher(t, Options{TorGeoIP: "testdata/geoip", TorGeoIP6: "testdata/geoip6"})
	for _, c := range []struct{ ip, country string }{
		{"1.0.0.1", "AU"},
		{"1.0.1.0", "CN"},
		{"1.0.4.0", "AU"},
		{"1.0.8.0", "N/A"}, // a gap
		{"8.8.8.0", "US"},
		{"8.8.8.255", "US"},
		{"8.8.9.0", "N/A"},
		{"81.2.69.1", "GB"},
		{"81.2.70.255", "GB"}, // the merged neighbour
		{"85.214.0.0", "DE"},
		{"85.214.255.255", "DE"},
		{"85.215.0.1", "N/A"}, // "??"
		{"85.215.1.0", "N/A"}, // past the end
		{"255.255.255.254", "N/A"},
		{"2001:2::1", "JP"},
		{"2001:506:9::3", "N/A"},
		{"2001:506:9::4", "BR"},
		{"2001:506:9::5", "BR"},
		{"2001:506:9::6", "US"},
		{"2001:506:9::2e", "N/A"},
		{"2a00:1450:4001:80b::200e", "IE"},
		{"2a00:1451::", "N/A"},
	} {
		e := &apilens.Event{UserIP: c.ip}
		x.Enrich(e)
		if e.Country != c.country || e.City != apilens.NotAvailable {
			t.Errorf("%s = %s/%s, want %s/N/A", c.ip, e.Country, e.City, c.country)
		}
	}
	tab, err := loadTorTable("testdata/geoip", "testdata/geoip6")
	if err != nil {
		t.Fatal(err)
	}
	// 0, AU, CN, AU, gap, US, gap, GB (two lines), gap, DE, N/A after: 11.
	if n := len(tab.starts4); n != 11 {
		t.Errorf("IPv4 table has %d entries, want 11: %v", n, tab.starts4)
	}
}

func TestTorFallbackErrors(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"fields":  "1,2\n",
		"numbers": "a,2,US\n",
		"order":   "5,2,US\n",
		"code":    "1,2,usa\n",
	} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte("# comment\n"+content), 0o600)
		if _, err := New(Options{TorGeoIP: path}); err == nil || !strings.Contains(err.Error(), path+":2:") {
			t.Errorf("%s: %v, want an error naming line 2", name, err)
		}
	}
	if _, err := New(Options{TorGeoIP: filepath.Join(dir, "missing")}); err == nil {
		t.Error("a missing range file named explicitly is not an error")
	}
}

// TestDebianData checks the packages .ci/run installs, when they are.
func TestDebianData(t *testing.T) {
	if _, err := os.Stat(DebianTorGeoIP); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI: %s missing; .ci/run installs Debian's tor-geoipdb", DebianTorGeoIP)
		}
		t.Skip("Debian's tor-geoipdb is not installed")
	}
	x := newEnricher(t, Options{})
	for ip, want := range map[string]string{"8.8.8.8": "US", "2001:4860:4860::8888": "US", "192.168.0.1": "N/A"} {
		e := &apilens.Event{UserIP: ip}
		x.Enrich(e)
		if e.Country != want {
			t.Errorf("%s = %s, want %s", ip, e.Country, want)
		}
	}
}

func TestClientAddr(t *testing.T) {
	for _, c := range []struct {
		ip, properties, want string
	}{
		{"203.0.113.7", "", "203.0.113.7"},
		{"203.0.113.7:51234", "", "203.0.113.7"},
		{"[2001:db8::1]:443", "", "2001:db8::1"},
		{"[2001:db8::1]", "", "2001:db8::1"},
		{"fe80::1%eth0", "", ""}, // link-local
		{"169.254.1.1", "", ""},
		{"127.0.0.1", "", ""},
		{"::1", "", ""},
		{"100.64.1.1", "", ""}, // carrier-grade NAT
		{"172.16.5.4", "", ""},
		{"fd00::1", "", ""},
		{"224.0.0.1", "", ""},
		{"0.0.0.0", "", ""},
		{"not an address", "", ""},
		{"10.0.0.1", `{"X-Forwarded-For":" 198.51.100.2 ,203.0.113.7"}`, "198.51.100.2"},
		{"10.0.0.1", `{"X-Forwarded-For":"unknown, 198.51.100.2"}`, "198.51.100.2"},
	} {
		a, ok := clientAddr(c.ip, []byte(c.properties))
		got := ""
		if ok {
			got = a.String()
		}
		if got != c.want {
			t.Errorf("clientAddr(%q, %s) = %q, want %q", c.ip, c.properties, got, c.want)
		}
	}
}

// TestDeterministic checks that an event is enriched the same by a fresh
// Enricher (a replay after a restart) as by a warm one.
func TestDeterministic(t *testing.T) {
	db := writeMMDB(t)
	a := newEnricher(t, Options{GeoIPDatabase: db, CacheSize: 2})
	e := apilens.Event{UserIP: "10.0.0.1", Properties: []byte(`{"X-Forwarded-For":"81.2.69.9"}`), UserAgentHeader: userAgentCases[0].header}
	first := e
	a.Enrich(&first)
	for _, c := range userAgentCases { // churn the small cache
		a.Enrich(&apilens.Event{UserAgentHeader: c.header, UserIP: "89.160.20.130"})
	}
	again := e
	a.Enrich(&again)
	fresh := e
	newEnricher(t, Options{GeoIPDatabase: db}).Enrich(&fresh)
	for _, got := range []apilens.Event{again, fresh} {
		if got.Country != first.Country || got.City != first.City || got.Browser != first.Browser || got.OS != first.OS || got.Device != first.Device {
			t.Errorf("enriched as %s/%s/%s/%s/%s, first as %s/%s/%s/%s/%s", got.Country, got.City, got.Browser, got.OS, got.Device,
				first.Country, first.City, first.Browser, first.OS, first.Device)
		}
	}
	if first.Country != "GB" || first.Browser != "Chrome" {
		t.Errorf("enriched as %s/%s", first.Country, first.Browser)
	}
}

func FuzzClientAddr(f *testing.F) {
	f.Add("203.0.113.7", `{"X-Forwarded-For":"10.0.0.1, 198.51.100.2"}`)
	f.Add("[2001:db8::1]:443", `{"x-forwarded-for":"[2001:db8::2]:1"}`)
	f.Add("", `{"X-Forwarded-For":1}`)
	f.Fuzz(func(t *testing.T, ip, properties string) {
		if a, ok := clientAddr(ip, []byte(properties)); ok && !public(a) {
			t.Errorf("clientAddr(%q, %q) = %s, not public", ip, properties, a)
		}
	})
}

func BenchmarkEnrich(b *testing.B) {
	x, err := New(Options{TorGeoIP: "testdata/geoip", TorGeoIP6: "testdata/geoip6", Logger: discard()})
	if err != nil {
		b.Fatal(err)
	}
	events := benchEvents()
	for i := range events { // warm the cache
		x.Enrich(&events[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		x.Enrich(&events[i%len(events)])
	}
}

func BenchmarkEnrichGeoIPDatabase(b *testing.B) {
	x, err := New(Options{GeoIPDatabase: writeMMDB(b), Logger: discard()})
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	events := benchEvents()
	for i := range events {
		x.Enrich(&events[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		x.Enrich(&events[i%len(events)])
	}
}

// benchEvents are events of every user agent of the tests, from public
// addresses, a quarter of them behind a proxy.
func benchEvents() []apilens.Event {
	ips := []string{"81.2.69.142", "89.160.20.130", "8.8.8.8", "2a02:cf40::1", "85.214.3.4"}
	var events []apilens.Event
	for i, c := range userAgentCases {
		e := apilens.Event{UserAgentHeader: c.header, UserIP: ips[i%len(ips)]}
		if i%4 == 0 {
			e.Properties = []byte(`{"X-Forwarded-For":"` + e.UserIP + `, 10.0.0.1"}`)
			e.UserIP = "10.0.0.2"
		}
		events = append(events, e)
	}
	return events
}
