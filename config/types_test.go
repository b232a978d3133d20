package config

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	const d = 24 * time.Hour
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"0", 0, ""},
		{"0s", 0, ""},
		{"2s", 2 * time.Second, ""},
		{"1m", time.Minute, ""},
		{"500ms", 500 * time.Millisecond, ""},
		{"72h", 72 * time.Hour, ""},
		{"2h30m", 150 * time.Minute, ""},
		{"90d", 90 * d, ""},
		{"3660d", 3660 * d, ""},
		{"1d12h", 36 * time.Hour, ""},
		{"1d30m15s", d + 30*time.Minute + 15*time.Second, ""},
		{"0d", 0, ""},
		{"-1h", -time.Hour, ""},
		{"-2d", -2 * d, ""},
		{"-1d6h", -30 * time.Hour, ""},
		{"106751d", 106751 * d, ""},
		{"", 0, "invalid duration"},
		{"d", 0, "invalid duration"},
		{"5", 0, "invalid duration"},
		{"1.5d", 0, "invalid duration"},
		{"+1d", 0, "invalid duration"},
		{"1d-1h", 0, "invalid duration"},
		{"1d+1h", 0, "invalid duration"},
		{"1dd", 0, "invalid duration"},
		{"30 days", 0, "invalid duration"},
		{"1w", 0, "invalid duration"},
		{"106752d", 0, "too long"},
		{"106751d23h59m59s", 0, "too long"},
	}
	for _, tc := range tests {
		got, err := ParseDuration(tc.in)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("ParseDuration(%q) = %v", tc.in, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseDuration(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.err)
		case tc.err == "" && time.Duration(got) != tc.want:
			t.Errorf("ParseDuration(%q) = %v, want %v", tc.in, time.Duration(got), tc.want)
		}
	}
}

func TestDurationString(t *testing.T) {
	const d = 24 * time.Hour
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0"},
		{2 * time.Second, "2s"},
		{time.Minute, "1m"},
		{5 * time.Minute, "5m"},
		{time.Hour, "1h"},
		{90 * time.Minute, "1h30m"},
		{time.Hour + time.Second, "1h0m1s"},
		{1500 * time.Millisecond, "1.5s"},
		{24 * time.Hour, "24h"},
		{72 * time.Hour, "72h"},
		{7 * d, "7d"},
		{90 * d, "90d"},
		{3660 * d, "3660d"},
		{8*d + 12*time.Hour, "8d12h"},
		{8*d + time.Minute, "8d1m"},
		{-time.Hour, "-1h"},
		{-90 * d, "-90d"},
	}
	for _, tc := range tests {
		if got := Duration(tc.in).String(); got != tc.want {
			t.Errorf("Duration(%v).String() = %q, want %q", tc.in, got, tc.want)
		}
		back, err := ParseDuration(tc.want)
		if err != nil || time.Duration(back) != tc.in {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.want, time.Duration(back), err, tc.in)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want Size
		err  string
	}{
		{"0", 0, ""},
		{"1024", 1024, ""},
		{"16MiB", 16 << 20, ""},
		{"1GiB", 1 << 30, ""},
		{"512KiB", 512 << 10, ""},
		{"2TiB", 2 << 40, ""},
		{"10MB", 10_000_000, ""},
		{"1KB", 1000, ""},
		{"3GB", 3_000_000_000, ""},
		{"1TB", 1_000_000_000_000, ""},
		{"100B", 100, ""},
		{"16 MiB", 16 << 20, ""},
		{" 16mib ", 16 << 20, ""},
		{"1.5GiB", 3 << 29, ""},
		{"0.5KB", 500, ""},
		{"-1MiB", -1 << 20, ""},
		{"+4KiB", 4 << 10, ""},
		{"8388607TiB", 8388607 << 40, ""},
		{"", 0, "invalid size"},
		{"MiB", 0, "invalid size"},
		{"16 potatoes", 0, "invalid size"},
		{"16M", 0, "invalid size"},
		{"1e6", 0, "invalid size"},
		{"1,024", 0, "invalid size"},
		{"1-2MiB", 0, "invalid size"},
		{"NaN", 0, "invalid size"},
		{"8388608TiB", 0, "too large"},
		{"9223372036854775808", 0, "invalid size"},
		{"9.3e18", 0, "invalid size"},
		{"10000000000.0GB", 0, "too large"},
	}
	for _, tc := range tests {
		got, err := ParseSize(tc.in)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("ParseSize(%q) = %v", tc.in, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseSize(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.err)
		case tc.err == "" && got != tc.want:
			t.Errorf("ParseSize(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestSizeString(t *testing.T) {
	tests := []struct {
		in   Size
		want string
	}{
		{0, "0"},
		{1, "1"},
		{1023, "1023"},
		{1024, "1KiB"},
		{16 * MiB, "16MiB"},
		{64 * MiB, "64MiB"},
		{GiB, "1GiB"},
		{3 * GiB / 2, "1536MiB"},
		{10 * MB, "10MB"},
		{2000, "2KB"},
		{20 * GB, "20GB"},
		{-MiB, "-1MiB"},
		{math.MaxInt64, "9223372036854775807"},
	}
	for _, tc := range tests {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("Size(%d).String() = %q, want %q", int64(tc.in), got, tc.want)
		}
		back, err := ParseSize(tc.want)
		if err != nil || back != tc.in {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.want, back, err, tc.in)
		}
	}
}

// FuzzParseDuration checks that whatever ParseDuration accepts prints back
// to the same value.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"0", "90d", "1d12h", "2h30m", "-1d6h", "500ms", "1.5s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v, printed %q, read back as %v, %v", s, int64(d), d.String(), int64(back), err)
		}
	})
}

// FuzzParseSize checks that whatever ParseSize accepts prints back to the
// same value.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "16MiB", "1.5GiB", "10MB", "-1KiB", "123"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			return
		}
		back, err := ParseSize(n.String())
		if err != nil || back != n {
			t.Fatalf("ParseSize(%q) = %d, printed %q, read back as %d, %v", s, int64(n), n.String(), int64(back), err)
		}
	})
}
