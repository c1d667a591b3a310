package eventwire

import "encoding/hex"

// Index maps event ids to positions (a log entry, a block): the positions
// that may hold each event. It keys events by the first 8 bytes of their
// id, 16 bytes per event, so an index of a whole ledger fits in memory;
// ids that share those bytes keep all their positions, and the caller
// checks a candidate position against the event it reads there. The ids
// the contracts give events are UUIDs drawn from a hash, so candidates are
// almost always one. An Index is not safe for concurrent use.
type Index struct {
	first map[uint64]uint64
	more  map[uint64][]uint64
}

// NewIndex returns an empty Index.
func NewIndex() *Index {
	return &Index{first: map[uint64]uint64{}, more: map[uint64][]uint64{}}
}

// IsID reports whether id has the form of the ids the contracts give
// events: a UUID in lower-case hexadecimal. Another string names no event.
func IsID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// prefix returns the first 8 bytes of an id for which IsID holds.
func prefix(id string) uint64 {
	var b [8]byte
	hex.Decode(b[0:4], []byte(id[0:8]))
	hex.Decode(b[4:6], []byte(id[9:13]))
	hex.Decode(b[6:8], []byte(id[14:18]))
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// Add records that position pos holds event id. Ids that are not event ids
// (IsID) are ignored.
func (x *Index) Add(id string, pos uint64) {
	if !IsID(id) {
		return
	}
	k := prefix(id)
	first, ok := x.first[k]
	switch {
	case !ok:
		x.first[k] = pos
	case first == pos:
	default:
		for _, p := range x.more[k] {
			if p == pos {
				return
			}
		}
		x.more[k] = append(x.more[k], pos)
	}
}

// Candidates returns the positions that may hold event id, in the order
// they were added; none when no event with its first 8 bytes was added.
func (x *Index) Candidates(id string) []uint64 {
	if !IsID(id) {
		return nil
	}
	k := prefix(id)
	first, ok := x.first[k]
	if !ok {
		return nil
	}
	return append([]uint64{first}, x.more[k]...)
}
