package sketch

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// exact is the value of rank q·(n−1) in sorted vs, the rank DDSketch targets.
func exact(vs []float64, q float64) float64 {
	return vs[int(q*float64(len(vs)-1))]
}

func TestQuantilesAfterMergeAndEncoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var all []float64
	merged := New()
	for part := 0; part < 20; part++ {
		s := New()
		for i := 0; i < 5000; i++ {
			v := math.Floor(math.Exp(rng.NormFloat64()*1.2 + 4)) // long-tailed ms
			all = append(all, v)
			s.Add(v)
		}
		enc, err := MergeEncoded(merged.Encode(), s.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if merged, err = Decode(enc); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(all)
	if got := merged.Count(); got != float64(len(all)) {
		t.Fatalf("count = %v, want %d", got, len(all))
	}
	for _, q := range []float64{0, 0.5, 0.9, 0.95, 0.99, 1} {
		want, got := exact(all, q), merged.Quantile(q)
		if want == 0 {
			if got != 0 {
				t.Errorf("p%v = %v, want 0", q*100, got)
			}
			continue
		}
		if rel := math.Abs(got-want) / want; rel > RelativeAccuracy {
			t.Errorf("p%v = %v, want %v (relative error %.4f > %v)", q*100, got, want, rel, RelativeAccuracy)
		}
	}
}

// TestAddIndex checks that adding values by their Index makes the same
// sketch as adding them, for every kind of value.
func TestAddIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	values := []float64{0, 1e-320, -1, math.NaN(), math.Inf(1), 1e308, 1, 2, 1e6}
	for range 1000 {
		values = append(values, math.Floor(math.Exp(rng.NormFloat64()*2+4)))
	}
	byValue, byIndex := New(), New()
	for _, v := range values {
		byValue.Add(v)
		byIndex.AddIndex(IndexOf(v))
	}
	if a, b := byValue.Encode(), byIndex.Encode(); string(a) != string(b) {
		t.Fatalf("sketches differ: %d and %d values", int(byValue.Count()), int(byIndex.Count()))
	}
	if byIndex.Count() != float64(len(values)-3) { // -1, NaN and +Inf are not recorded
		t.Fatalf("count %v of %d values", byIndex.Count(), len(values))
	}
}

func TestEmptyAndNegative(t *testing.T) {
	s := New()
	s.Add(-1)
	if s.Encode() != nil || s.Count() != 0 || s.Quantile(0.5) != 0 {
		t.Fatalf("negative value was recorded: count %v", s.Count())
	}
	s.Add(42)
	s.Add(4200)
	enc := s.Encode()
	if _, err := Decode(enc[:len(enc)-1]); err == nil {
		t.Fatal("Decode accepted a truncated sketch")
	}
}

func FuzzDecode(f *testing.F) {
	s := New()
	s.Add(3)
	s.Add(300)
	f.Add(s.Encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Decode(b)
		if err != nil {
			return
		}
		_ = d.Quantile(0.99)
		_ = d.Encode()
	})
}

func BenchmarkAdd(b *testing.B) {
	s := New()
	for i := 0; b.Loop(); i++ {
		s.Add(float64(i%5000 + 1))
	}
}
