package enrich

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"sync"

	"github.com/apilens/apilens"
)

// torTable is the country of every address range of tor-geoipdb's files
// (Debian's tor-geoipdb package, from the IPFire Location database): each
// line "FROM,TO,CC", FROM and TO decimal integers for IPv4 (geoip) and
// addresses for IPv6 (geoip6), CC "??" when unknown.
//
// Ranges are stored by their start only, in order, with the gaps between
// them as ranges of their own whose country is N/A, and adjacent ranges of
// one country merged: a lookup is one binary search, and the table of
// Debian's files takes about 7 MiB.
type torTable struct {
	codes   []string // country codes by index; 0 is N/A
	starts4 []uint32
	cc4     []uint16
	starts6 []u128
	cc6     []uint16
}

// u128 is an IPv6 address as an ordered pair of integers.
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

func (a u128) next() (u128, bool) {
	if a.lo == ^uint64(0) {
		return u128{a.hi + 1, 0}, a.hi != ^uint64(0)
	}
	return u128{a.hi, a.lo + 1}, true
}

func addr128(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// torTables shares the tables of files already loaded: they are read-only,
// and several servers in one process (tests) need not each hold a copy.
var torTables struct {
	sync.Mutex
	m map[[2]string]*torTable
}

// loadTorTable reads the range files v4 and v6 (either may be "", not
// both), or returns the table already read from them.
func loadTorTable(v4, v6 string) (*torTable, error) {
	torTables.Lock()
	defer torTables.Unlock()
	key := [2]string{v4, v6}
	if t := torTables.m[key]; t != nil {
		return t, nil
	}
	t := &torTable{codes: []string{apilens.NotAvailable}}
	index := map[string]uint16{}
	code := func(cc []byte) (uint16, error) {
		if string(cc) == "??" {
			return 0, nil
		}
		if len(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' {
			return 0, fmt.Errorf("country %q is not a two-letter code", cc)
		}
		i, ok := index[string(cc)]
		if !ok {
			i = uint16(len(t.codes))
			index[string(cc)] = i
			t.codes = append(t.codes, string(cc))
		}
		return i, nil
	}
	// Presize from the files' sizes (lines average about 24 and 53 bytes):
	// growing tables of this size by appending costs more than reading them.
	if fi, err := os.Stat(v4); err == nil {
		t.starts4, t.cc4 = make([]uint32, 0, fi.Size()/22), make([]uint16, 0, fi.Size()/22)
	}
	if fi, err := os.Stat(v6); err == nil {
		t.starts6, t.cc6 = make([]u128, 0, fi.Size()/50), make([]uint16, 0, fi.Size()/50)
	}
	if v4 != "" {
		err := readRanges(v4, func(from, to []byte, cc uint16) error {
			a, err1 := strconv.ParseUint(string(from), 10, 32)
			b, err2 := strconv.ParseUint(string(to), 10, 32)
			if err1 != nil || err2 != nil || b < a {
				return fmt.Errorf("range %s,%s is not two IPv4 numbers in order", from, to)
			}
			t.starts4, t.cc4 = appendRange(t.starts4, t.cc4, uint32(a), uint32(b), cc,
				func(x, y uint32) bool { return x < y },
				func(x uint32) (uint32, bool) { return x + 1, x != ^uint32(0) })
			return nil
		}, code)
		if err != nil {
			return nil, err
		}
	}
	if v6 != "" {
		err := readRanges(v6, func(from, to []byte, cc uint16) error {
			a, err1 := netip.ParseAddr(string(from))
			b, err2 := netip.ParseAddr(string(to))
			if err1 != nil || err2 != nil || !a.Is6() || !b.Is6() || b.Less(a) {
				return fmt.Errorf("range %s,%s is not two IPv6 addresses in order", from, to)
			}
			t.starts6, t.cc6 = appendRange(t.starts6, t.cc6, addr128(a), addr128(b), cc,
				u128.less, u128.next)
			return nil
		}, code)
		if err != nil {
			return nil, err
		}
	}
	if torTables.m == nil {
		torTables.m = map[[2]string]*torTable{}
	}
	torTables.m[key] = t
	return t, nil
}

// readRanges calls fn for each range line of path, its country resolved by
// code.
func readRanges(path string, fn func(from, to []byte, cc uint16) error, code func([]byte) (uint16, error)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read country ranges: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		from, rest, ok1 := bytes.Cut(line, []byte{','})
		to, cc, ok2 := bytes.Cut(rest, []byte{','})
		if !ok1 || !ok2 {
			return fmt.Errorf("%s:%d: want FROM,TO,CC", path, n)
		}
		c, err := code(cc)
		if err == nil {
			err = fn(from, to, c)
		}
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// appendRange adds the range [from, to] of country cc after those of
// starts: a gap before it becomes an N/A range, a range continuing one of
// the same country extends it, and the address after it starts an N/A
// range until the next one (an N/A range simply continues). Ranges must come in order, without overlap.
func appendRange[T any](starts []T, ccs []uint16, from, to T, cc uint16, less func(T, T) bool, next func(T) (T, bool)) ([]T, []uint16) {
	n := len(starts)
	switch {
	case n > 0 && less(from, starts[n-1]):
		// Out of order or overlapping: keep the table sorted by dropping it.
		return starts, ccs
	case n > 0 && ccs[n-1] == 0 && !less(starts[n-1], from):
		// from is where the open N/A range starts: replace it.
		starts, ccs = starts[:n-1], ccs[:n-1]
	case n == 0 && less(*new(T), from):
		starts, ccs = append(starts, *new(T)), append(ccs, 0)
	}
	if n := len(starts); n > 0 && ccs[n-1] == cc {
		// Adjacent to a range of the same country: it already covers from.
	} else {
		starts, ccs = append(starts, from), append(ccs, cc)
	}
	if after, ok := next(to); ok && cc != 0 {
		starts, ccs = append(starts, after), append(ccs, 0)
	}
	return starts, ccs
}

func (t *torTable) len() int { return len(t.starts4) + len(t.starts6) }

// lookup returns the country code of a, or N/A.
func (t *torTable) lookup(a netip.Addr) string {
	if a.Is4() {
		b := a.As4()
		x := binary.BigEndian.Uint32(b[:])
		i, found := slices.BinarySearch(t.starts4, x)
		if !found {
			i--
		}
		if i < 0 {
			return apilens.NotAvailable
		}
		return t.codes[t.cc4[i]]
	}
	x := addr128(a)
	i, found := slices.BinarySearchFunc(t.starts6, x, func(e, x u128) int {
		switch {
		case e.less(x):
			return -1
		case x.less(e):
			return 1
		}
		return 0
	})
	if !found {
		i--
	}
	if i < 0 {
		return apilens.NotAvailable
	}
	return t.codes[t.cc6[i]]
}
