// Package sketch wraps DataDog's DDSketch with the settings apilens uses for
// latency: logarithmic mapping at 1% relative accuracy and a memory-frugal
// store, plus the compact encoding stored in rollup rows. Merging two
// sketches is addition, so the quantiles of any range of buckets are exact
// to the same relative accuracy.
package sketch

import (
	"fmt"
	"math"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/mapping"
	"github.com/DataDog/sketches-go/ddsketch/store"
)

// RelativeAccuracy is the guaranteed relative error of every quantile.
const RelativeAccuracy = 0.01

var indexMapping mapping.IndexMapping

func init() {
	m, err := mapping.NewLogarithmicMapping(RelativeAccuracy)
	if err != nil {
		panic(err)
	}
	indexMapping = m
}

// Sketch is a mergeable quantile sketch of non-negative values.
type Sketch struct {
	s *ddsketch.DDSketch
	// pos is s's store of positive values, held for AddIndex: the
	// consumer adds to a few sketches an event, and each pointer followed
	// on the way to the count is a likely cache miss.
	pos *store.BufferedPaginatedStore
}

// wrap wraps d, made with BufferedPaginatedStoreConstructor.
func wrap(d *ddsketch.DDSketch) *Sketch {
	return &Sketch{d, d.GetPositiveValueStore().(*store.BufferedPaginatedStore)}
}

// New returns an empty sketch.
func New() *Sketch {
	return wrap(ddsketch.NewDDSketchFromStoreProvider(indexMapping, store.BufferedPaginatedStoreConstructor))
}

// Add records one value. Negative values (unknown latencies) are ignored.
func (s *Sketch) Add(v float64) {
	if v < 0 {
		return
	}
	_ = s.s.Add(v) // fails only for values beyond the mapping's range (~1e300)
}

// Index is the bucket of the sketches' mapping a value falls into, the
// same in every sketch. A value added to many sketches (an event's latency
// in each of its rollup families) costs one logarithm this way, and an
// index is small enough to be held until a batch of them is added at once.
type Index int32

const (
	// NoValue is the Index of what Add ignores: negative values, NaN and
	// values beyond the mapping's range.
	NoValue Index = math.MinInt32
	// Zero is the Index of 0 and of values too small to index, which a
	// sketch counts apart.
	Zero Index = math.MinInt32 + 1
)

// IndexOf returns v's Index.
func IndexOf(v float64) Index {
	switch {
	case v < 0 || math.IsNaN(v) || v > indexMapping.MaxIndexableValue():
		return NoValue
	case v <= indexMapping.MinIndexableValue():
		return Zero
	}
	return Index(indexMapping.Index(v))
}

// AddIndex records one value by its Index: the same as Add of the value.
func (s *Sketch) AddIndex(i Index) {
	switch i {
	case NoValue:
	case Zero:
		_ = s.s.Add(0)
	default:
		s.pos.Add(int(i))
	}
}

// Merge adds o's values to s.
func (s *Sketch) Merge(o *Sketch) {
	_ = s.s.MergeWith(o.s) // same mapping on both sides: cannot fail
}

// MergeEncoded adds the values of an encoded sketch to s.
func (s *Sketch) MergeEncoded(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	o, err := Decode(b)
	if err != nil {
		return err
	}
	s.Merge(o)
	return nil
}

// Copy returns an independent copy of s.
func (s *Sketch) Copy() *Sketch { return wrap(s.s.Copy()) }

// Count returns how many values were added.
func (s *Sketch) Count() float64 { return s.s.GetCount() }

// Quantile returns the value at quantile q (0 ≤ q ≤ 1), within
// RelativeAccuracy of the exact value of rank q·(n−1); 0 when empty.
func (s *Sketch) Quantile(q float64) float64 {
	v, err := s.s.GetValueAtQuantile(q)
	if err != nil {
		return 0
	}
	return v
}

// Encode returns the compact binary form of s, nil when s is empty.
func (s *Sketch) Encode() []byte {
	if s.s.IsEmpty() {
		return nil
	}
	var b []byte
	s.s.Encode(&b, true)
	return b
}

// Decode reads a sketch written by Encode. An empty input is an empty sketch.
func Decode(b []byte) (*Sketch, error) {
	if len(b) == 0 {
		return New(), nil
	}
	d, err := ddsketch.DecodeDDSketch(b, store.BufferedPaginatedStoreConstructor, indexMapping)
	if err != nil {
		return nil, fmt.Errorf("decode latency sketch: %w", err)
	}
	return wrap(d), nil
}

// MergeEncoded returns the encoding of the merge of two encoded sketches;
// either may be empty. Stores use it to merge sketches in place.
func MergeEncoded(a, b []byte) ([]byte, error) {
	if len(b) == 0 {
		return a, nil
	}
	if len(a) == 0 {
		return b, nil
	}
	s, err := Decode(a)
	if err != nil {
		return nil, err
	}
	if err := s.MergeEncoded(b); err != nil {
		return nil, err
	}
	return s.Encode(), nil
}
