package loadtest

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsCoverEveryValueOnce(t *testing.T) {
	// Consecutive buckets are contiguous, from 0 to the largest uint64.
	if lo, _ := bucketBounds(0); lo != 0 {
		t.Fatalf("bucket 0 starts at %d", lo)
	}
	for i := 0; i+1 < numBuckets; i++ {
		_, hi := bucketBounds(i)
		lo, _ := bucketBounds(i + 1)
		if hi+1 != lo {
			t.Fatalf("bucket %d ends at %d, bucket %d starts at %d", i, hi, i+1, lo)
		}
	}
	if _, hi := bucketBounds(numBuckets - 1); hi != math.MaxUint64 {
		t.Fatalf("last bucket ends at %d, want %d", hi, uint64(math.MaxUint64))
	}
	r := rand.New(rand.NewPCG(1, 2))
	values := []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 40, math.MaxUint64 - 1, math.MaxUint64}
	for range 10000 {
		values = append(values, r.Uint64()>>r.UintN(64))
	}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of [0, %d)", v, i, numBuckets)
		}
		lo, hi := bucketBounds(i)
		if v < lo || v > hi {
			t.Fatalf("bucketOf(%d) = %d, which holds [%d, %d]", v, i, lo, hi)
		}
		if v >= exactBelow && float64(hi-lo) > float64(lo)/subBuckets {
			t.Fatalf("bucket %d [%d, %d] is wider than 1/%d of its start", i, lo, hi, subBuckets)
		}
	}
}

// exactQuantile is the nearest-rank quantile of sorted.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := max(int(math.Ceil(q*float64(len(sorted)))), 1)
	return sorted[rank-1]
}

func TestHistogramQuantiles(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	tests := []struct {
		name string
		gen  func(i int) time.Duration
		n    int
	}{
		{"one value", func(int) time.Duration { return 3 * time.Millisecond }, 1},
		{"constant", func(int) time.Duration { return 1234567 * time.Nanosecond }, 1000},
		{"tiny exact values", func(i int) time.Duration { return time.Duration(i % 100) }, 1000},
		{"uniform 0-100ms", func(int) time.Duration { return time.Duration(r.Int64N(int64(100 * time.Millisecond))) }, 20000},
		{"exponential mean 5ms", func(int) time.Duration { return time.Duration(r.ExpFloat64() * 5e6) }, 20000},
		{"bimodal with a long tail", func(i int) time.Duration {
			if i%100 == 0 {
				return 2*time.Second + time.Duration(r.Int64N(int64(time.Second)))
			}
			return time.Millisecond + time.Duration(r.Int64N(int64(time.Millisecond)))
		}, 20000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h histogram
			var all []time.Duration
			for i := range tt.n {
				d := tt.gen(i)
				h.add(d)
				all = append(all, d)
			}
			slices.Sort(all)
			for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
				got, want := h.quantile(q), exactQuantile(all, q)
				if diff := math.Abs(float64(got - want)); diff > float64(want)/subBuckets+1 {
					t.Errorf("quantile(%v) = %v, exact %v (off by %.2f%%)", q, got, want, 100*diff/float64(want))
				}
			}
			if h.quantile(0) != all[0] || h.quantile(1) != all[len(all)-1] {
				t.Errorf("quantile(0), quantile(1) = %v, %v; want the min and max %v, %v", h.quantile(0), h.quantile(1), all[0], all[len(all)-1])
			}
			var sum float64
			for _, d := range all {
				sum += float64(d)
			}
			if got, want := h.mean(), time.Duration(sum/float64(len(all))); got != want {
				t.Errorf("mean = %v, want %v", got, want)
			}
		})
	}
}

func TestHistogramEmptyNegativeAndMerge(t *testing.T) {
	var h histogram
	if h.quantile(0.5) != 0 || h.mean() != 0 {
		t.Fatalf("empty histogram: quantile %v mean %v, want 0", h.quantile(0.5), h.mean())
	}
	h.add(-time.Second)
	if h.n != 1 || h.quantile(1) != 0 {
		t.Fatalf("a negative duration: n %d max %v, want 1 and 0", h.n, h.quantile(1))
	}

	var a, b, both histogram
	for i := range 1000 {
		d := time.Duration(i) * time.Microsecond
		both.add(d)
		if i%3 == 0 {
			a.add(d)
		} else {
			b.add(d)
		}
	}
	a.merge(&b)
	a.merge(&histogram{}) // merging nothing changes nothing
	if a.n != both.n || a.min != both.min || a.max != both.max || a.counts != both.counts {
		t.Fatalf("merged: n %d min %d max %d; want %d %d %d (same counts: %t)", a.n, a.min, a.max, both.n, both.min, both.max, a.counts == both.counts)
	}
	var empty histogram
	empty.merge(&both)
	if empty.min != both.min || empty.quantile(0.5) != both.quantile(0.5) {
		t.Fatalf("merge into empty: min %d p50 %v, want %d %v", empty.min, empty.quantile(0.5), both.min, both.quantile(0.5))
	}
}

// Up to exactUpTo durations the quantiles are the exact nearest-rank
// values: with 20 calls the p99 is the slowest, with 100 the 99th.
func TestHistogramExactSmallCounts(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 2, 20, 99, 100, 101, 1000, exactUpTo} {
		var h histogram
		var all []time.Duration
		for range n {
			d := time.Duration(r.Int64N(int64(50*time.Millisecond))) + time.Millisecond
			h.add(d)
			all = append(all, d)
		}
		slices.Sort(all)
		for _, q := range []float64{0, 0.5, 0.9, 0.99, 1} {
			if got, want := h.quantile(q), exactQuantile(all, q); got != want {
				t.Errorf("n=%d: quantile(%v) = %v, want exactly %v", n, q, got, want)
			}
		}
		if n < 100 && h.quantile(0.99) != all[n-1] {
			t.Errorf("n=%d: p99 %v is not the maximum %v", n, h.quantile(0.99), all[n-1])
		}
		if n >= 100 && h.quantile(0.99) != all[(99*n+99)/100-1] {
			t.Errorf("n=%d: p99 %v is not the value of rank ceil(0.99n)", n, h.quantile(0.99))
		}
	}
	// One more: estimates from the buckets again, within their precision.
	var h histogram
	for i := range exactUpTo + 1 {
		h.add(time.Duration(i+1) * time.Microsecond)
	}
	if h.isExact() || h.exact != nil {
		t.Fatalf("kept %d durations past exactUpTo", len(h.exact))
	}
	if got, want := h.quantile(0.5), 2049*time.Microsecond; math.Abs(float64(got-want)) > float64(want)/subBuckets {
		t.Errorf("p50 past exactUpTo: %v, want about %v", got, want)
	}
	// Merges stay exact while they fit.
	var a, b histogram
	a.add(3 * time.Millisecond)
	b.add(time.Millisecond)
	b.add(2 * time.Millisecond)
	a.merge(&b)
	if !a.isExact() || a.quantile(0.5) != 2*time.Millisecond {
		t.Errorf("merged exact: %v, p50 %v", a.isExact(), a.quantile(0.5))
	}
	a.merge(&h)
	if a.isExact() {
		t.Error("merged with a bucket-only histogram, still exact")
	}
}
