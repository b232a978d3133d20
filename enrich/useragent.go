package enrich

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"unicode/utf8"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/ua-parser/uap-go/uaparser"
	"gopkg.in/yaml.v3"

	"github.com/apilens/apilens"
)

// maxFamily bounds a browser, OS or device name: uap-core copies some of
// them out of the header, which the publisher controls (the same limit as
// REFERENCE §5's for the browser).
const maxFamily = 200

// client is what a user agent says about the client.
type client struct{ browser, os, device string }

// userAgents parses User-Agent headers with uap-core's rules.
//
// The cache is hashicorp/golang-lru/v2 rather than a hand-written list: it
// is small, generic (no boxing of the values), safe for concurrent use, and
// its eviction is tested elsewhere; uap-go's own caches (ARC, one per
// question, values boxed) are set to a single entry since this one, keyed
// by the whole header, answers all three questions at once.
type userAgents struct {
	parser *uaparser.Parser
	cache  *lru.Cache[string, client]
}

func newUserAgents(path string, size int, log *slog.Logger) (*userAgents, error) {
	source := path
	var def *uaparser.RegexDefinitions
	switch {
	case path != "":
		d, err := readRegexes(path)
		if err != nil {
			return nil, err
		}
		def = d
	default:
		d, err := readRegexes(DebianUserAgentRegexes)
		switch {
		case err == nil:
			def, source = d, DebianUserAgentRegexes
		case errors.Is(err, fs.ErrNotExist):
			// uap-go embeds uap-core's regexes.yaml (Apache License 2.0,
			// Copyright The ua-parser project) as of the module version in
			// go.mod: that is the set built in.
			source = "built in (uap-go)"
		default:
			return nil, err
		}
	}
	p, err := newParser(def, source)
	if err != nil {
		return nil, err
	}
	cache, err := lru.New[string, client](size)
	if err != nil {
		return nil, fmt.Errorf("user-agent cache of %d entries: %w", size, err)
	}
	log.Info("user-agent rules loaded", "source", source,
		"browsers", len(p.UA), "os", len(p.OS), "devices", len(p.Device))
	return &userAgents{parser: p, cache: cache}, nil
}

// readRegexes reads a uap-core regexes.yaml.
func readRegexes(path string) (*uaparser.RegexDefinitions, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read user-agent rules: %w", err)
	}
	var def uaparser.RegexDefinitions
	if err := yaml.Unmarshal(b, &def); err != nil {
		return nil, fmt.Errorf("parse user-agent rules %s: %w", path, err)
	}
	if len(def.UA) == 0 {
		return nil, fmt.Errorf("user-agent rules %s: no user_agent_parsers", path)
	}
	return &def, nil
}

// newParser compiles def (nil: uap-go's built-in set).
func newParser(def *uaparser.RegexDefinitions, source string) (p *uaparser.Parser, err error) {
	defer recoverCompile(&err, "user-agent rules "+source)
	opts := []uaparser.Option{uaparser.WithCacheSize(1)}
	if def != nil {
		opts = append(opts, uaparser.WithRegexDefinitions(*def))
	}
	return uaparser.New(opts...)
}

// parse returns what header says, from the cache when it can.
func (u *userAgents) parse(header string) client {
	if header == "" || header == apilens.Unknown {
		return client{Other, Other, Other}
	}
	if c, ok := u.cache.Get(header); ok {
		return c
	}
	// Event strings are views of a whole spool record: a cache key must
	// not keep it alive.
	header = strings.Clone(header)
	c := client{
		browser: family(u.parser.ParseUserAgent(header).Family),
		os:      family(u.parser.ParseOs(header).Family),
		device:  family(u.parser.ParseDevice(header).Family),
	}
	u.cache.Add(header, c)
	return c
}

// family bounds a name and says Other for none.
func family(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return Other
	}
	if len(s) > maxFamily {
		cut := maxFamily
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}
