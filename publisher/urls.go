package publisher

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Policy is how a group spreads its events over its endpoints.
type Policy uint8

const (
	// FailOver sends to the first available endpoint of the group, in the
	// order written, and moves on only when it is unavailable (`|`). It is
	// the policy of a group of one URL, as it is the gateway's default.
	FailOver Policy = iota
	// LoadBalance sends batches round robin over the group's available
	// endpoints (`,`).
	LoadBalance
)

// String is the policy's name, as deployment.toml writes it.
func (p Policy) String() string {
	if p == LoadBalance {
		return "loadbalance"
	}
	return "failover"
}

// sep is the separator the policy is written with.
func (p Policy) sep() string {
	if p == LoadBalance {
		return ","
	}
	return "|"
}

// Endpoint is one URL of a receiver_urls (or auth_urls) value.
type Endpoint struct {
	// Scheme is "tcp", "ssl", "http" or "https", lower case.
	Scheme string
	// Host is a host name or an IP address, IPv6 without its brackets.
	Host string
	// Port is the TCP port, 1 to 65535.
	Port int
	// Path is the base path of an http or https URL, without its trailing
	// slash; always empty for tcp and ssl.
	Path string
}

// Addr is host:port for net.Dial.
func (e Endpoint) Addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// Secure reports whether the endpoint is reached over TLS.
func (e Endpoint) Secure() bool { return e.Scheme == "ssl" || e.Scheme == "https" }

// String writes the endpoint back as a URL that parses to it.
func (e Endpoint) String() string { return e.Scheme + "://" + e.Addr() + e.Path }

// Group is one `{…}` of receiver_urls: every event published goes to
// every group, and to one endpoint of each, chosen by the policy.
type Group struct {
	Policy    Policy
	Endpoints []Endpoint
}

// String writes the group back in braces.
func (g Group) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range g.Endpoints {
		if i > 0 {
			b.WriteString(g.Policy.sep())
		}
		b.WriteString(e.String())
	}
	b.WriteByte('}')
	return b.String()
}

// FormatGroups writes groups back as a receiver_urls value that
// ParseReceiverURLs reads into the same groups.
func FormatGroups(groups []Group) string {
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = g.String()
	}
	return strings.Join(parts, ",")
}

// SyntaxError is a receiver_urls or auth_urls value that does not parse.
type SyntaxError struct {
	// What names the value: "receiver URLs" or "auth URLs".
	What string
	// Pos is the 1-based byte position of Part in the value.
	Pos int
	// Part is the offending piece of the value.
	Part string
	// Msg says what is wrong with it.
	Msg string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s: position %d: %q: %s", e.What, e.Pos, e.Part, e.Msg)
}

// ParseReceiverURLs reads a receiver_urls value (REFERENCE §11):
//
//	{tcp://a:9612,tcp://b:9612},{ssl://c:9712|ssl://d:9712}
//
// Groups are written in braces, separated by an optional comma; without
// braces the whole value is one group. Inside a group, `,` separates
// load-balanced URLs and `|` fail-over ones; a group cannot mix them.
// URLs are tcp://, ssl://, http:// or https:// with a host and a port;
// IPv6 literals go in brackets (tcp://[::1]:9612); a trailing slash is
// accepted (the original agent choked on both); http and https URLs may
// carry a base path. Spaces around URLs and separators are ignored.
// Which schemes a transport accepts is checked by New, not here.
func ParseReceiverURLs(s string) ([]Group, error) {
	return parseGroups("receiver URLs", s)
}

// ParseAuthURLs reads an explicit auth_urls value, which must have the
// shape of receivers: as many groups, as many URLs in each, and the same
// policy. Endpoint i of group g authenticates the sessions of receiver
// endpoint i of group g.
func ParseAuthURLs(s string, receivers []Group) ([]Group, error) {
	auth, err := parseGroups("auth URLs", s)
	if err != nil {
		return nil, err
	}
	if len(auth) != len(receivers) {
		return nil, fmt.Errorf("auth URLs: %d groups for %d receiver groups", len(auth), len(receivers))
	}
	for i, g := range auth {
		r := receivers[i]
		if len(g.Endpoints) != len(r.Endpoints) {
			return nil, fmt.Errorf("auth URLs: group %d has %d URLs, receiver group %d has %d", i+1, len(g.Endpoints), i+1, len(r.Endpoints))
		}
		if len(g.Endpoints) > 1 && g.Policy != r.Policy {
			return nil, fmt.Errorf("auth URLs: group %d is %s, receiver group %d is %s", i+1, g.Policy, i+1, r.Policy)
		}
	}
	return auth, nil
}

// DeriveAuthURLs gives the auth URLs the gateway assumes when none are
// configured: ssl://host:(port+100) for each receiver URL, in groups of
// the same shape.
func DeriveAuthURLs(receivers []Group) ([]Group, error) {
	auth := make([]Group, len(receivers))
	for i, g := range receivers {
		auth[i] = Group{Policy: g.Policy, Endpoints: make([]Endpoint, len(g.Endpoints))}
		for j, e := range g.Endpoints {
			if e.Port+100 > 65535 {
				return nil, fmt.Errorf("auth URL of %s: port %d+100 is out of range; give the auth URLs", e, e.Port)
			}
			auth[i].Endpoints[j] = Endpoint{Scheme: "ssl", Host: e.Host, Port: e.Port + 100}
		}
	}
	return auth, nil
}

// parseGroups is the grammar of both values; what names the value in
// errors.
func parseGroups(what, s string) ([]Group, error) {
	p := &parser{what: what, s: s}
	i := p.skipSpace(0)
	if i == len(s) {
		return nil, errors.New(what + ": empty")
	}
	if s[i] != '{' {
		if j := strings.IndexAny(s, "{}"); j >= 0 {
			return nil, p.errorf(j, s[j:j+1], "a brace, but the value does not start with '{': write every group in braces")
		}
		g, err := p.group(1, i, len(s))
		if err != nil {
			return nil, err
		}
		return []Group{g}, nil
	}
	var groups []Group
	for i < len(s) {
		if s[i] != '{' {
			return nil, p.errorf(i, rest(s, i), "expected '{' to open group %d", len(groups)+1)
		}
		end := strings.IndexByte(s[i+1:], '}')
		if end < 0 {
			return nil, p.errorf(i, s[i:], "group %d is not closed with '}'", len(groups)+1)
		}
		end += i + 1
		if j := strings.IndexByte(s[i+1:end], '{'); j >= 0 {
			return nil, p.errorf(i+1+j, "{", "'{' inside group %d: groups do not nest", len(groups)+1)
		}
		g, err := p.group(len(groups)+1, i+1, end)
		if err != nil {
			return nil, err
		}
		groups = append(groups, g)
		i = p.skipSpace(end + 1)
		if i < len(s) && s[i] == ',' {
			i = p.skipSpace(i + 1)
			if i == len(s) {
				return nil, p.errorf(i-1, ",", "a comma after the last group")
			}
		}
	}
	return groups, nil
}

// rest is a short excerpt of s from i, for error messages.
func rest(s string, i int) string {
	const n = 24
	if len(s)-i > n {
		return s[i:i+n] + "…"
	}
	return s[i:]
}

type parser struct {
	what, s string
}

func (p *parser) errorf(pos int, part, format string, args ...any) error {
	return &SyntaxError{What: p.what, Pos: pos + 1, Part: part, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) skipSpace(i int) int {
	for i < len(p.s) && isSpace(p.s[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// group parses s[from:to], the inside of group n.
func (p *parser) group(n, from, to int) (Group, error) {
	var g Group
	var sep byte // the first separator seen
	start := from
	for i := from; i <= to; i++ {
		if i < to {
			c := p.s[i]
			if c != ',' && c != '|' {
				continue
			}
			if sep == 0 {
				sep = c
			} else if c != sep {
				return g, p.errorf(i, rest(p.s, i), "group %d mixes ',' (load-balance) and '|' (fail-over): use one of them, or split the group in braces", n)
			}
		}
		e, err := p.endpoint(start, i)
		if err != nil {
			return g, err
		}
		g.Endpoints = append(g.Endpoints, e)
		start = i + 1
	}
	if sep == ',' {
		g.Policy = LoadBalance
	}
	return g, nil
}

// endpoint parses the URL in s[from:to], spaces around it allowed.
func (p *parser) endpoint(from, to int) (Endpoint, error) {
	for from < to && isSpace(p.s[from]) {
		from++
	}
	for to > from && isSpace(p.s[to-1]) {
		to--
	}
	u := p.s[from:to]
	if u == "" {
		return Endpoint{}, p.errorf(from, u, "empty URL")
	}
	var e Endpoint
	k := strings.Index(u, "://")
	if k < 0 {
		return e, p.errorf(from, u, "no scheme: write tcp://host:port or ssl://host:port")
	}
	e.Scheme = strings.ToLower(u[:k])
	switch e.Scheme {
	case "tcp", "ssl", "http", "https":
	default:
		return e, p.errorf(from, u, "unknown scheme %q: want tcp, ssl, http or https", u[:k])
	}
	hostport := u[k+3:]
	if j := strings.IndexByte(hostport, '/'); j >= 0 {
		path := strings.TrimRight(hostport[j:], "/")
		hostport = hostport[:j]
		if path != "" {
			if e.Scheme == "tcp" || e.Scheme == "ssl" {
				return e, p.errorf(from, u, "a %s URL has no path", e.Scheme)
			}
			if strings.ContainsFunc(path, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
				return e, p.errorf(from, u, "the path has a space or a control character")
			}
			e.Path = path
		}
	}
	var host, port string
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return e, p.errorf(from, u, "'[' without ']' around the IPv6 address")
		}
		host = hostport[1:end]
		addr, err := netip.ParseAddr(host)
		if err != nil || !addr.Is6() || !validZone(addr.Zone()) {
			return e, p.errorf(from, u, "%q is not an IPv6 address", host)
		}
		after := hostport[end+1:]
		if !strings.HasPrefix(after, ":") {
			return e, p.errorf(from, u, "no port after the IPv6 address")
		}
		port = after[1:]
	} else {
		c := strings.LastIndexByte(hostport, ':')
		if c < 0 {
			return e, p.errorf(from, u, "no port: write %s://host:port", e.Scheme)
		}
		host, port = hostport[:c], hostport[c+1:]
		if strings.IndexByte(host, ':') >= 0 {
			return e, p.errorf(from, u, "an IPv6 address goes in brackets: %s://[%s]:%s", e.Scheme, host, port)
		}
		if host == "" {
			return e, p.errorf(from, u, "no host")
		}
		if i := strings.IndexFunc(host, func(r rune) bool { return !isHostChar(r) }); i >= 0 {
			return e, p.errorf(from, u, "%q in the host name", host[i:i+1])
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil || port == "" || port[0] < '0' || port[0] > '9' || n < 1 || n > 65535 {
		return e, p.errorf(from, u, "port %q is not a number from 1 to 65535", port)
	}
	e.Host, e.Port = host, n
	return e, nil
}

func isHostChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_'
}

// validZone keeps zones (fe80::1%eth0) to characters that cannot be
// taken for separators when the URL is written back.
func validZone(z string) bool {
	return !strings.ContainsFunc(z, func(r rune) bool { return !isHostChar(r) })
}
