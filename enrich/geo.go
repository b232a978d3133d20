package enrich

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"strings"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/valyala/fastjson"

	"github.com/apilens/apilens"
)

// place is where an address is: an ISO 3166-1 alpha-2 country code and a
// city name, each N/A when unknown.
type place struct{ country, city string }

var unknownPlace = place{apilens.NotAvailable, apilens.NotAvailable}

// geo locates client addresses with a MaxMind-format database, or else the
// tor-geoipdb country ranges, or else nothing (every place unknown).
type geo struct {
	db    *maxminddb.Reader
	cache *lru.Cache[netip.Addr, place] // db answers: a lookup decodes a record
	tor   *torTable
}

func newGeo(opts Options, log *slog.Logger) (*geo, error) {
	if opts.GeoIPDatabase != "" {
		db, err := maxminddb.Open(opts.GeoIPDatabase)
		if err != nil {
			return nil, fmt.Errorf("open geoip database %s: %w", opts.GeoIPDatabase, err)
		}
		cache, err := lru.New[netip.Addr, place](opts.CacheSize)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("geoip cache of %d entries: %w", opts.CacheSize, err)
		}
		log.Info("geoip database loaded", "path", opts.GeoIPDatabase, "type", db.Metadata.DatabaseType,
			"built", db.Metadata.BuildTime().UTC().Format("2006-01-02"))
		return &geo{db: db, cache: cache}, nil
	}
	v4, v6 := opts.TorGeoIP, opts.TorGeoIP6
	explicit := v4 != "" || v6 != ""
	if !explicit {
		v4, v6 = DebianTorGeoIP, DebianTorGeoIP6
	}
	t, err := loadTorTable(v4, v6)
	if err != nil {
		if explicit || !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		log.Warn("no geoip data: every country is N/A; set [enrich] geoip_database or install Debian's tor-geoipdb",
			"tried", v4)
		return &geo{}, nil
	}
	log.Info("country ranges loaded (no city)", "ipv4", v4, "ipv6", v6, "ranges", t.len())
	return &geo{tor: t}, nil
}

func (g *geo) close() error {
	if g.db == nil {
		return nil
	}
	if err := g.db.Close(); err != nil {
		return fmt.Errorf("close geoip database: %w", err)
	}
	return nil
}

// locate returns the country and city of the client of an event: the
// first public address of an X-Forwarded-For in its properties, or else
// its userIp.
func (g *geo) locate(userIP string, properties []byte) (country, city string) {
	addr, ok := clientAddr(userIP, properties)
	if !ok {
		return unknownPlace.country, unknownPlace.city
	}
	p := g.lookup(addr)
	return p.country, p.city
}

func (g *geo) lookup(addr netip.Addr) place {
	switch {
	case g.tor != nil:
		return place{g.tor.lookup(addr), apilens.NotAvailable}
	case g.db == nil:
		return unknownPlace
	}
	if p, ok := g.cache.Get(addr); ok {
		return p
	}
	p := g.decode(addr)
	g.cache.Add(addr, p)
	return p
}

// cityRecord is the part of a GeoIP2/GeoLite2 City or Country record (and
// DB-IP's, which follows it) that enrichment reads.
type cityRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	// RegisteredCountry stands in when the record has no country: anycast
	// and satellite networks are placed only where they are registered.
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
	City struct {
		Names struct {
			EN string `maxminddb:"en"`
		} `maxminddb:"names"`
	} `maxminddb:"city"`
}

func (g *geo) decode(addr netip.Addr) place {
	var r cityRecord
	res := g.db.Lookup(addr)
	if !res.Found() || res.Decode(&r) != nil {
		// A record that does not decode is the database's fault, not the
		// event's; the address counts as unknown like one not listed.
		return unknownPlace
	}
	p := unknownPlace
	switch {
	case r.Country.ISOCode != "":
		p.country = r.Country.ISOCode
	case r.RegisteredCountry.ISOCode != "":
		p.country = r.RegisteredCountry.ISOCode
	}
	if n := strings.TrimSpace(r.City.Names.EN); n != "" {
		p.city = family(n)
	}
	return p
}

// forwardedParsers parse the properties that carry X-Forwarded-For.
var forwardedParsers fastjson.ParserPool

// clientAddr returns the client's public address: the first public one of
// an X-Forwarded-For property (any case of the name), or else userIP when
// it is public. Private, loopback, link-local and unparsable addresses say
// nothing about where a client is.
func clientAddr(userIP string, properties []byte) (netip.Addr, bool) {
	// The cheap test keeps the JSON parser off the common event, whose
	// properties say nothing about forwarding.
	if len(properties) > 0 && (bytes.Contains(properties, []byte("orwarded-")) || bytes.Contains(properties, []byte("ORWARDED-"))) {
		p := forwardedParsers.Get()
		v, err := p.ParseBytes(properties)
		if err == nil {
			if o, err := v.Object(); err == nil {
				var found netip.Addr
				o.Visit(func(k []byte, v *fastjson.Value) {
					if found.IsValid() || !strings.EqualFold(string(k), "X-Forwarded-For") {
						return
					}
					if s, err := v.StringBytes(); err == nil {
						found = firstPublic(string(s))
					}
				})
				if found.IsValid() {
					forwardedParsers.Put(p)
					return found, true
				}
			}
		}
		forwardedParsers.Put(p)
	}
	a, ok := parseAddr(userIP)
	if !ok || !public(a) {
		return netip.Addr{}, false
	}
	return a, true
}

// firstPublic returns the first public address of an X-Forwarded-For
// value ("client, proxy1, proxy2"), or the zero Addr.
func firstPublic(list string) netip.Addr {
	for item := range strings.SplitSeq(list, ",") {
		if a, ok := parseAddr(strings.TrimSpace(item)); ok && public(a) {
			return a
		}
	}
	return netip.Addr{}
}

// parseAddr reads an address as gateways write it: bare, with a port
// ("203.0.113.7:51234", "[2001:db8::1]:443") or in brackets.
func parseAddr(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		return parseAddr(s[1 : len(s)-1])
	}
	return netip.Addr{}, false
}

// sharedAddressSpace is carrier-grade NAT (RFC 6598): private in all but
// name.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// public reports whether a can be located: not private, loopback,
// link-local, multicast, unspecified or carrier-grade NAT.
func public(a netip.Addr) bool {
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate() && !sharedAddressSpace.Contains(a)
}
