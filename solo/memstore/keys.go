package memstore

import (
	"slices"
	"strings"
)

// maxBlock is the size at which a block of sortedKeys splits.
const maxBlock = 512

// sortedKeys is an ordered set of strings kept as a list of sorted blocks,
// so that inserting or deleting in the middle moves at most a block, not
// the whole set.
type sortedKeys struct {
	blocks [][]string // each non-empty and sorted; blocks ordered
}

// block returns the index of the block where k belongs.
func (s *sortedKeys) block(k string) int {
	// first block whose first key is > k, minus one
	i, _ := slices.BinarySearchFunc(s.blocks, k, func(b []string, k string) int {
		if strings.Compare(b[0], k) <= 0 {
			return -1
		}
		return 1
	})
	return max(i-1, 0)
}

func (s *sortedKeys) insert(k string) {
	if len(s.blocks) == 0 {
		s.blocks = [][]string{{k}}
		return
	}
	bi := s.block(k)
	b := s.blocks[bi]
	i, found := slices.BinarySearch(b, k)
	if found {
		return
	}
	b = slices.Insert(b, i, k)
	if len(b) > maxBlock {
		half := len(b) / 2
		right := slices.Clone(b[half:])
		b = b[:half:half]
		s.blocks = slices.Insert(s.blocks, bi+1, right)
	}
	s.blocks[bi] = b
}

func (s *sortedKeys) delete(k string) {
	if len(s.blocks) == 0 {
		return
	}
	bi := s.block(k)
	b := s.blocks[bi]
	i, found := slices.BinarySearch(b, k)
	if !found {
		return
	}
	b = slices.Delete(b, i, i+1)
	if len(b) == 0 {
		s.blocks = slices.Delete(s.blocks, bi, bi+1)
		return
	}
	s.blocks[bi] = b
}

// ascend calls fn for every key >= start in order until fn returns false.
func (s *sortedKeys) ascend(start string, fn func(k string) bool) {
	if len(s.blocks) == 0 {
		return
	}
	bi := s.block(start)
	i, _ := slices.BinarySearch(s.blocks[bi], start)
	for ; bi < len(s.blocks); bi++ {
		for _, k := range s.blocks[bi][i:] {
			if !fn(k) {
				return
			}
		}
		i = 0
	}
}
