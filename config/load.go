package config

import (
	"encoding"
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// envPrefix starts every environment variable that configures apilens.
const envPrefix = "APILENS_"

// capsKey is the table of per-dimension caps, whose keys are free (each is
// a dimension name, checked by Validate).
const capsKey = "rollup.max_distinct_by_dimension"

// fileOnlyKeys are tables set in the file only, not by a variable or flag:
// their keys are free (the caps, the zone per source) or they are lists
// of tables (the log rules).
var fileOnlyKeys = []string{capsKey, "loganalyzer.source_zones", "loganalyzer.rules"}

// inFileOnly reports whether key is, or is inside, a file-only table.
func inFileOnly(key string) bool {
	for _, k := range fileOnlyKeys {
		if key == k || strings.HasPrefix(key, k+".") {
			return true
		}
	}
	return false
}

// Load returns the configuration of path (none if path is "") over the
// defaults, overridden by the APILENS_* variables of environ (in the form
// of os.Environ). Decoding is strict: a key the schema does not have is an
// error that names it. Secrets named by a *_file key are read. The strings
// returned are warnings about APILENS_* variables that configure nothing.
//
// Load does not validate; apply the flags, Resolve, then Validate.
func Load(path string, environ []string) (*Config, []string, error) {
	c := Default()
	if path != "" {
		if err := c.decodeFile(path); err != nil {
			return nil, nil, err
		}
	}
	warnings, err := c.applyEnv(environ)
	if err != nil {
		return nil, nil, err
	}
	return c, warnings, nil
}

func (c *Config) decodeFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	md, err := toml.Decode(string(b), c)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if errs := checkKeys(md); len(errs) > 0 {
		for i, err := range errs {
			errs[i] = fmt.Errorf("%s: %w", path, err)
		}
		return errors.Join(errs...)
	}
	for _, s := range c.secrets() {
		if *s.file == "" {
			continue
		}
		if *s.value != "" {
			return fmt.Errorf("%s: %s and %s are both set; keep one", path, s.key, s.key+"_file")
		}
		if err := s.read(); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// checkKeys reports the keys of a decoded file that the schema does not
// have, with a suggestion where one is close. The decoder matches keys
// case-insensitively when no exact match exists; this does not.
func checkKeys(md toml.MetaData) []error {
	known := knownKeys()
	undecoded := map[string]bool{}
	for _, k := range md.Undecoded() {
		undecoded[k.String()] = true
	}
	var errs []error
	var reported []string
	for _, k := range md.Keys() {
		name := k.String()
		if hasPrefixKey(name, reported) || !undecoded[name] && (known[name] || inFileOnly(name)) {
			continue
		}
		reported = append(reported, name)
		what := "key"
		if md.Type(k...) == "Hash" {
			what = "table"
		}
		msg := fmt.Sprintf("unknown %s %q", what, name)
		if s := suggest(name, known); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		errs = append(errs, errors.New(msg))
	}
	return errs
}

// hasPrefixKey reports whether key is inside one of tables.
func hasPrefixKey(key string, tables []string) bool {
	for _, t := range tables {
		if strings.HasPrefix(key, t+".") {
			return true
		}
	}
	return false
}

// knownKeys returns the tables and keys of the schema.
func knownKeys() map[string]bool {
	known := map[string]bool{}
	for _, k := range fileOnlyKeys {
		known[k] = true
	}
	for _, f := range Default().fields() {
		section, _, _ := strings.Cut(f.key, ".")
		known[section] = true
		known[f.key] = true
	}
	return known
}

// suggest returns the known key that name most likely meant: the one equal
// to it ignoring case and underscores; else the only one whose last part
// is; else the only one of the same table within two typos.
func suggest(name string, known map[string]bool) string {
	norm := func(s string) string { return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s)) }
	split := func(s string) (table, last string) {
		i := strings.LastIndexByte(s, '.')
		return s[:max(i, 0)], s[i+1:]
	}
	table, last := split(name)
	var byLast, byTypo []string
	for k := range known {
		if norm(k) == norm(name) {
			return k
		}
		kt, kl := split(k)
		if kt == "" {
			continue
		}
		if norm(kl) == norm(last) {
			byLast = append(byLast, k)
		}
		if kt == table && distance(norm(kl), norm(last)) <= 2 {
			byTypo = append(byTypo, k)
		}
	}
	for _, candidates := range [][]string{byLast, byTypo} {
		if len(candidates) == 1 {
			return candidates[0]
		}
	}
	return ""
}

// distance is the Levenshtein distance between a and b, in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// applyEnv sets the keys that APILENS_* variables of environ name.
func (c *Config) applyEnv(environ []string) (warnings []string, err error) {
	byEnv := map[string]string{}
	for _, f := range c.fields() {
		byEnv[f.env] = f.key
	}
	capsEnv := envName(capsKey) + "_"
	var errs []error
	set := map[string]bool{}
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, envPrefix) {
			continue
		}
		key, ok := byEnv[name]
		if !ok {
			dim, isCap := strings.CutPrefix(name, capsEnv)
			if !isCap {
				warnings = append(warnings, fmt.Sprintf("environment variable %s configures nothing; ignored", name))
				continue
			}
			key = capsKey + "." + capDimension(dim)
		}
		if err := c.set(key, value); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		set[key] = value != ""
	}
	for _, s := range c.secrets() {
		if set[s.key] && set[s.key+"_file"] {
			errs = append(errs, fmt.Errorf("%s and %s are both set; keep one", envName(s.key), envName(s.key+"_file")))
		}
	}
	return warnings, errors.Join(errs...)
}

// capDimension maps the upper-case dimension of an environment variable to
// its name; an unknown one is kept, lower-case, for Validate to report.
func capDimension(env string) string {
	for _, d := range cappedDimensions {
		if strings.EqualFold(d, env) {
			return d
		}
	}
	return strings.ToLower(env)
}

// flagKeys maps the command-line flags that override keys to those keys.
var flagKeys = map[string]string{
	"http-addr": "server.http_addr",
	"data-dir":  "server.data_dir",
	"log-level": "log.level",
}

// ApplyFlags overrides keys with the flags of fs that were given on the
// command line: --http-addr (server.http_addr), --data-dir
// (server.data_dir) and --log-level (log.level). A flag set that does not
// define one of them simply does not override it.
func (c *Config) ApplyFlags(fs *flag.FlagSet) error {
	var errs []error
	fs.Visit(func(f *flag.Flag) {
		if key, ok := flagKeys[f.Name]; ok {
			if err := c.set(key, f.Value.String()); err != nil {
				errs = append(errs, fmt.Errorf("-%s: %w", f.Name, err))
			}
		}
	})
	return errors.Join(errs...)
}

// Set sets the key named in the file's dotted form ("ingest.max_body_bytes",
// "rollup.max_distinct_by_dimension.user") from its text, parsed as the
// environment is. Setting a secret forgets its *_file; setting a *_file
// reads it.
func (c *Config) Set(key, value string) error {
	if err := c.set(key, value); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}

func (c *Config) set(key, value string) error {
	if dim, ok := strings.CutPrefix(key, capsKey+"."); ok {
		n, err := parseInt(value)
		if err != nil {
			return err
		}
		if c.Rollup.MaxDistinctByDimension == nil {
			c.Rollup.MaxDistinctByDimension = map[string]int{}
		}
		c.Rollup.MaxDistinctByDimension[dim] = n
		return nil
	}
	for _, s := range c.secrets() {
		switch key {
		case s.key:
			*s.value, *s.file = Secret(value), ""
			return nil
		case s.key + "_file":
			if value == "" {
				if *s.file != "" {
					*s.value = ""
				}
				*s.file = ""
				return nil
			}
			*s.file = value
			return s.read()
		}
	}
	for _, f := range c.fields() {
		if f.key != key {
			continue
		}
		switch p := f.v.Addr().Interface().(type) {
		case encoding.TextUnmarshaler:
			return p.UnmarshalText([]byte(value))
		case *string:
			*p = value
		case *int:
			n, err := parseInt(value)
			if err != nil {
				return err
			}
			*p = n
		case *bool:
			b, err := strconv.ParseBool(value)
			if err != nil {
				return fmt.Errorf("%q is not true or false", value)
			}
			*p = b
		default:
			panic(fmt.Sprintf("config: key %s has unsupported type %T", key, p))
		}
		return nil
	}
	return fmt.Errorf("unknown key")
}

func parseInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", s)
	}
	return n, nil
}

// field is one key of the schema.
type field struct {
	key string        // as in the file: "ingest.max_body_bytes"
	env string        // APILENS_INGEST_MAX_BODY_BYTES
	v   reflect.Value // the addressable field of the Config
}

// fields lists the keys of c, in the schema's order, except the file-only
// tables.
func (c *Config) fields() []field {
	var fs []field
	cv := reflect.ValueOf(c).Elem()
	for i := range cv.NumField() {
		section := cv.Type().Field(i).Tag.Get("toml")
		sv := cv.Field(i)
		for j := range sv.NumField() {
			key := section + "." + sv.Type().Field(j).Tag.Get("toml")
			if inFileOnly(key) {
				continue
			}
			fs = append(fs, field{key: key, env: envName(key), v: sv.Field(j)})
		}
	}
	return fs
}

// envName is the environment variable of a key.
func envName(key string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// secret is a secret key with its *_file companion.
type secret struct {
	key   string
	value *Secret
	file  *string
}

func (c *Config) secrets() []secret {
	return []secret{
		{"admin.password", &c.Admin.Password, &c.Admin.PasswordFile},
		{"database.password", &c.Database.Password, &c.Database.PasswordFile},
	}
}

// read sets the secret from its file, without the trailing newline that
// editors and `echo` add.
func (s secret) read() error {
	b, err := os.ReadFile(*s.file)
	if err != nil {
		return fmt.Errorf("%s_file: cannot read secret: %w", s.key, err)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return fmt.Errorf("%s_file: %q is empty", s.key, *s.file)
	}
	*s.value = Secret(v)
	return nil
}
