// Package enrich derives what a gateway does not send from what it does: the
// client's country and city from its address, and its browser, operating
// system and device from the User-Agent header (REFERENCE §10).
//
// The ingest consumer calls [Enricher.Enrich] on every event after it is
// acknowledged and before it is rolled up, so enrichment never slows the
// answer to the gateway. Answers depend only on the event and on the data
// files loaded at start: replaying the spool after a crash enriches each
// event as before, unless those files were replaced in between.
package enrich

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/apilens/apilens"
)

// Default locations of the Debian packages used when nothing is configured.
const (
	// DebianUserAgentRegexes is the uap-core package's regexes.yaml.
	DebianUserAgentRegexes = "/usr/share/uap-core/regexes.yaml"
	// DebianTorGeoIP and DebianTorGeoIP6 are the tor-geoipdb package's
	// country ranges.
	DebianTorGeoIP  = "/usr/share/tor/geoip"
	DebianTorGeoIP6 = "/usr/share/tor/geoip6"
)

// DefaultCacheSize bounds the user-agent and address caches: API traffic
// comes from few distinct clients, and 10,000 entries of each hold a busy
// gateway's working set in a few MiB.
const DefaultCacheSize = 10_000

// Other is the browser, operating system or device of a user agent that no
// uap-core rule matches (uap-core's own word for it).
const Other = "Other"

// Options configure an Enricher. Zero values mean the defaults.
type Options struct {
	// UserAgentRegexes is a uap-core regexes.yaml; "" means Debian's
	// (DebianUserAgentRegexes) when installed, else the set built in.
	UserAgentRegexes string
	// GeoIPDatabase is a MaxMind-format city or country database
	// (GeoLite2-City, DB-IP City Lite); "" means the country-only ranges of
	// TorGeoIP and TorGeoIP6.
	GeoIPDatabase string
	// TorGeoIP and TorGeoIP6 are tor-geoipdb range files, used without a
	// GeoIPDatabase; "" means DebianTorGeoIP and DebianTorGeoIP6. When
	// neither exists every country is N/A.
	TorGeoIP, TorGeoIP6 string
	// CacheSize bounds each lookup cache; 0 means DefaultCacheSize.
	CacheSize int
	Logger    *slog.Logger
}

// Enricher fills the Country, City, Browser, OS and Device of events. It is
// safe for concurrent use.
type Enricher struct {
	ua  *userAgents
	geo *geo
}

// New loads the data files opts name. A file named explicitly that cannot
// be read is an error; a missing default falls back as Options says, with
// a log line naming what is used.
func New(opts Options) (*Enricher, error) {
	if opts.CacheSize <= 0 {
		opts.CacheSize = DefaultCacheSize
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	log := opts.Logger.With("component", "enrich")
	ua, err := newUserAgents(opts.UserAgentRegexes, opts.CacheSize, log)
	if err != nil {
		return nil, err
	}
	g, err := newGeo(opts, log)
	if err != nil {
		return nil, err
	}
	return &Enricher{ua: ua, geo: g}, nil
}

// Enrich sets e's Country (ISO 3166-1 alpha-2 code) and City from its client
// address, N/A when unknown, and its Browser, OS and Device from its user
// agent, Other when unknown.
func (x *Enricher) Enrich(e *apilens.Event) {
	e.Country, e.City = x.geo.locate(e.UserIP, e.Properties)
	c := x.ua.parse(e.UserAgentHeader)
	e.Browser, e.OS, e.Device = c.browser, c.os, c.device
}

// Close releases the geo database.
func (x *Enricher) Close() error {
	return x.geo.close()
}

// recoverCompile turns the panic of a regular expression that does not
// compile (uap-go's constructor panics) into an error.
func recoverCompile(err *error, what string) {
	if r := recover(); r != nil {
		e, ok := r.(error)
		if !ok {
			e = errors.New(fmt.Sprint(r))
		}
		*err = fmt.Errorf("compile %s: %w", what, e)
	}
}
