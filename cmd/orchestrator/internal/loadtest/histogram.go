package loadtest

import (
	"math"
	"math/bits"
	"slices"
	"time"
)

// Histogram buckets: values below exactBelow (nanoseconds) get a bucket each;
// above, every power of two is split into subBuckets buckets, so a bucket is
// at most 1/subBuckets of its lower bound wide (about 1.6%) and the whole
// range of a uint64 fits in numBuckets counters (30 KB), whatever the count.
const (
	subBits    = 6
	subBuckets = 1 << subBits   // 64 buckets per power of two
	exactBelow = 2 * subBuckets // 128 exact buckets
	numBuckets = exactBelow + (64-subBits-1)*subBuckets
)

// exactUpTo is how many durations a histogram keeps as they are: up to
// that many, its quantiles are exact rather than estimated from buckets.
const exactUpTo = 4096

// histogram counts durations in logarithmic buckets: bounded memory, and
// quantiles within about 1.6% of the exact value, exact up to exactUpTo
// durations. The zero value is empty and ready to use; it is not safe for
// concurrent use.
type histogram struct {
	counts   [numBuckets]uint64
	n        uint64
	sum      float64 // nanoseconds
	min, max uint64
	// exact holds every duration while n <= exactUpTo; it is dropped
	// (len(exact) != n) past that.
	exact []uint64
}

// isExact tells whether h still holds every duration.
func (h *histogram) isExact() bool { return uint64(len(h.exact)) == h.n }

// bucketOf returns the bucket index of v.
func bucketOf(v uint64) int {
	if v < exactBelow {
		return int(v)
	}
	l := bits.Len64(v)         // >= subBits+2
	shift := l - (subBits + 1) // v>>shift is in [subBuckets, 2*subBuckets)
	return exactBelow + (l-subBits-2)*subBuckets + int(v>>shift) - subBuckets
}

// bucketBounds returns the smallest and largest value of bucket i.
func bucketBounds(i int) (lo, hi uint64) {
	if i < exactBelow {
		return uint64(i), uint64(i)
	}
	j := i - exactBelow
	shift := j/subBuckets + 1
	m := uint64(j%subBuckets + subBuckets)
	lo = m << shift
	return lo, lo + (1 << shift) - 1
}

// add records one duration; negative durations count as zero.
func (h *histogram) add(d time.Duration) {
	v := uint64(0)
	if d > 0 {
		v = uint64(d)
	}
	h.counts[bucketOf(v)]++
	if h.isExact() && h.n < exactUpTo {
		h.exact = append(h.exact, v)
	} else {
		h.exact = nil
	}
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

// merge adds the counts of o to h.
func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	if h.isExact() && o.isExact() && h.n+o.n <= exactUpTo {
		h.exact = append(h.exact, o.exact...)
	} else {
		h.exact = nil
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// quantile returns the q-quantile (0 <= q <= 1) by the nearest-rank method:
// the value of rank ceil(q*n) (so, below 100 durations, the 0.99-quantile
// is the maximum). It is exact while h holds every duration; past that,
// estimated as the middle of its bucket and kept within the observed
// minimum and maximum, which ranks 1 and n return exactly. It is 0 when h
// is empty.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	rank = min(rank, h.n)
	if h.isExact() {
		sorted := slices.Clone(h.exact)
		slices.Sort(sorted)
		return time.Duration(sorted[rank-1])
	}
	switch rank { // the extremes are known exactly
	case 1:
		return time.Duration(h.min)
	case h.n:
		return time.Duration(h.max)
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen < rank {
			continue
		}
		lo, hi := bucketBounds(i)
		v := lo + (hi-lo)/2
		v = max(v, h.min)
		v = min(v, h.max)
		return time.Duration(v)
	}
	return time.Duration(h.max)
}

// mean returns the average duration, 0 when h is empty.
func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}
