package couchstore

import (
	"slices"
	"sort"
)

// chunkMax is the largest chunk of a sortedIDs; inserting costs a copy of
// at most that many strings.
const chunkMax = 512

// sortedIDs is an ordered set of strings, kept as a list of sorted chunks
// (each chunk's strings all sort before the next chunk's), so that insert
// and delete move at most chunkMax strings and a range walk is a binary
// search then a sequential read.
type sortedIDs struct {
	chunks [][]string
	n      int
}

// find returns the chunk that id belongs to (the first whose last string
// is >= id, or the last chunk) and id's position in it.
func (s *sortedIDs) find(id string) (ci, i int, found bool) {
	ci = sort.Search(len(s.chunks), func(c int) bool {
		ch := s.chunks[c]
		return ch[len(ch)-1] >= id
	})
	if ci == len(s.chunks) {
		if ci == 0 {
			return 0, 0, false
		}
		ci--
	}
	i, found = slices.BinarySearch(s.chunks[ci], id)
	return ci, i, found
}

// insert adds id (no-op if present).
func (s *sortedIDs) insert(id string) {
	if len(s.chunks) == 0 {
		s.chunks = [][]string{{id}}
		s.n = 1
		return
	}
	ci, i, found := s.find(id)
	if found {
		return
	}
	ch := slices.Insert(s.chunks[ci], i, id)
	if len(ch) > chunkMax {
		half := len(ch) / 2
		left := slices.Clone(ch[:half])
		right := slices.Clone(ch[half:])
		s.chunks = slices.Replace(s.chunks, ci, ci+1, left, right)
	} else {
		s.chunks[ci] = ch
	}
	s.n++
}

// remove deletes id (no-op if absent).
func (s *sortedIDs) remove(id string) {
	if len(s.chunks) == 0 {
		return
	}
	ci, i, found := s.find(id)
	if !found {
		return
	}
	ch := slices.Delete(s.chunks[ci], i, i+1)
	if len(ch) == 0 {
		s.chunks = slices.Delete(s.chunks, ci, ci+1)
	} else {
		s.chunks[ci] = ch
	}
	s.n--
}

// walk calls f for each id in [start, end), in order, until f returns
// false.
func (s *sortedIDs) walk(start, end string, f func(id string) bool) {
	if len(s.chunks) == 0 {
		return
	}
	ci, i, _ := s.find(start)
	for ; ci < len(s.chunks); ci, i = ci+1, 0 {
		for _, id := range s.chunks[ci][i:] {
			if id >= end {
				return
			}
			if !f(id) {
				return
			}
		}
	}
}
