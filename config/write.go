package config

import (
	"fmt"
	"io"
	"maps"
	"net/url"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

// WriteTOML writes the configuration as a TOML file with every key, secrets
// masked: Secret values and the password inside database.url. A secret read
// from its *_file is written as "" beside that file's name, so that the
// output loads back to the same secret.
func (c *Config) WriteTOML(w io.Writer) error {
	out := *c
	out.Rollup.MaxDistinctByDimension = maps.Clone(c.Rollup.MaxDistinctByDimension)
	out.Database.URL = redactDSN(c.Database.URL)
	for _, s := range out.secrets() {
		if *s.file != "" {
			*s.value = ""
		}
	}
	if _, err := fmt.Fprintf(w, "# apilens configuration; secrets are shown as %q.\n\n", masked); err != nil {
		return err
	}
	enc := toml.NewEncoder(w)
	enc.Indent = ""
	return enc.Encode(out)
}

// dsnPassword finds the password of a key=value PostgreSQL DSN.
var dsnPassword = regexp.MustCompile(`(^|\s)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// redactDSN masks the password of a database URL or DSN: a URL's
// (postgres://user:pw@host/db), a MySQL DSN's (user:pw@tcp(host)/db) or a
// PostgreSQL key=value DSN's (host=h password=pw).
func redactDSN(dsn string) string {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return masked
		}
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), masked)
			return strings.Replace(u.String(), url.QueryEscape(masked), masked, 1)
		}
		return dsn
	}
	if dsnPassword.MatchString(dsn) {
		return dsnPassword.ReplaceAllString(dsn, "${1}${2}"+masked)
	}
	// MySQL: [user[:password]@][protocol[(address)]]/dbname; the driver
	// splits at the last '@' before the last '/'.
	slash := strings.LastIndexByte(dsn, '/')
	if slash < 0 {
		return dsn
	}
	at := strings.LastIndexByte(dsn[:slash], '@')
	if at < 0 {
		return dsn
	}
	user, _, hasPw := strings.Cut(dsn[:at], ":")
	if !hasPw {
		return dsn
	}
	return user + ":" + masked + dsn[at:]
}
