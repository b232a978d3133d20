package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as in Go ("90s", "2h30m") or with a
// leading count of days ("90d", "1d12h"); "0" is zero. Convert it with
// time.Duration(d).
type Duration time.Duration

const maxDays = math.MaxInt64 / int64(day)

// ParseDuration parses a Duration.
func ParseDuration(s string) (Duration, error) {
	bad := func() (Duration, error) {
		return 0, fmt.Errorf("invalid duration %q (want e.g. \"90s\", \"2h30m\" or \"30d\")", s)
	}
	rest, neg := strings.CutPrefix(s, "-")
	var d time.Duration
	if i := strings.IndexByte(rest, 'd'); i >= 0 {
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil || n < 0 || rest[0] == '+' {
			return bad()
		}
		if n > maxDays {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		d = time.Duration(n) * day
		rest = rest[i+1:]
		if rest == "" {
			return sign(d, neg), nil
		}
	}
	if rest == "" || rest[0] == '-' || rest[0] == '+' {
		return bad()
	}
	r, err := time.ParseDuration(rest)
	if err != nil {
		return bad()
	}
	if d > math.MaxInt64-r {
		return 0, fmt.Errorf("duration %q is too long", s)
	}
	return sign(d+r, neg), nil
}

func sign(d time.Duration, neg bool) Duration {
	if neg {
		return Duration(-d)
	}
	return Duration(d)
}

// String formats d so that ParseDuration reads it back: from a week on with
// a count of days, the rest as Go does without trailing zero units ("90d",
// "8d12h", "72h", "90s", "1m").
func (d Duration) String() string {
	td := time.Duration(d)
	switch {
	case td == 0:
		return "0"
	case td < 0:
		if td == math.MinInt64 {
			return td.String()
		}
		return "-" + Duration(-td).String()
	}
	var s string
	if days := td / day; days >= 7 {
		s = strconv.FormatInt(int64(days), 10) + "d"
		td %= day
		if td == 0 {
			return s
		}
	}
	g := td.String()
	if strings.HasSuffix(g, "m0s") {
		g = strings.TrimSuffix(g, "0s")
	}
	if strings.HasSuffix(g, "h0m") {
		g = strings.TrimSuffix(g, "0m")
	}
	return s + g
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Size is a number of bytes, written as an integer or with a unit: B, KB,
// MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), as in
// "16MiB" or "1.5GB". Units are case-insensitive.
type Size int64

// Size units.
const (
	B   Size = 1
	KB  Size = 1000
	MB  Size = 1000 * KB
	GB  Size = 1000 * MB
	TB  Size = 1000 * GB
	KiB Size = 1 << 10
	MiB Size = 1 << 20
	GiB Size = 1 << 30
	TiB Size = 1 << 40
)

// sizeUnits are the units of a Size, bytes last.
var sizeUnits = []struct {
	name string
	size Size
}{
	{"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB},
	{"TB", TB}, {"GB", GB}, {"MB", MB}, {"KB", KB}, {"B", B},
}

// ParseSize parses a Size.
func ParseSize(s string) (Size, error) {
	bad := func() (Size, error) {
		return 0, fmt.Errorf("invalid size %q (want bytes or e.g. \"512KiB\", \"16MiB\", \"10MB\")", s)
	}
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != '-' && r != '+' })
	if i < 0 {
		i = len(t)
	}
	num, unitName := t[:i], strings.TrimSpace(t[i:])
	unit := Size(0)
	if unitName == "" {
		unit = B
	}
	for _, u := range sizeUnits {
		if strings.EqualFold(unitName, u.name) {
			unit = u.size
		}
	}
	if unit == 0 || num == "" {
		return bad()
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return bad()
		}
		if n > math.MaxInt64/int64(unit) || n < math.MinInt64/int64(unit) {
			return 0, fmt.Errorf("size %q is too large", s)
		}
		return Size(n) * unit, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return bad()
	}
	f = math.Round(f * float64(unit))
	// 2^63 is the first float64 past MaxInt64.
	if f >= math.MaxInt64 || f < math.MinInt64 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return Size(f), nil
}

// String formats s with the unit that divides it into the smallest count
// ("16MiB", "20GB", "1000"), so that ParseSize reads it back.
func (s Size) String() string {
	if s == 0 {
		return "0"
	}
	best := sizeUnits[len(sizeUnits)-1]
	for _, u := range sizeUnits {
		if s%u.size == 0 && u.size > best.size {
			best = u
		}
	}
	if best.size == B {
		return strconv.FormatInt(int64(s), 10)
	}
	return strconv.FormatInt(int64(s/best.size), 10) + best.name
}

// MarshalText implements encoding.TextMarshaler.
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// masked is what a non-empty Secret prints as.
const masked = "******"

// Secret is a password or other credential. It prints as "******" when set
// (fmt, slog, JSON and TOML all go through String or MarshalText) and as ""
// when not, so that the configuration can be printed and logged; Reveal
// returns the value itself.
type Secret string

// Reveal returns the secret's value, for the one place that uses it.
func (s Secret) Reveal() string { return string(s) }

// String returns "******", or "" if s is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return masked
}

// GoString masks s in %#v too.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// MarshalText implements encoding.TextMarshaler, masked like String.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
