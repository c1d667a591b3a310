package fabricgw

import "sync"

// eventIndexSize bounds how many event positions a Gateway remembers.
const eventIndexSize = 1 << 16

// eventIndex remembers in which block the most recently streamed events
// are, so that a subscription resuming after one of them reads the chain
// from that block instead of from the first one. It forgets the oldest
// positions first; a forgotten event is still found, by a longer read.
type eventIndex struct {
	mu    sync.Mutex
	block map[eventKey]uint64
	ring  []eventKey // insertion order, for eviction
	next  int
}

type eventKey struct{ channel, id string }

// put records that event id of channel is in block, and reports whether
// it is new.
func (x *eventIndex) put(channel, id string, block uint64) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	k := eventKey{channel, id}
	if x.block == nil {
		x.block = make(map[eventKey]uint64)
		x.ring = make([]eventKey, eventIndexSize)
	}
	if _, ok := x.block[k]; ok {
		return false
	}
	if old := x.ring[x.next]; old != (eventKey{}) {
		delete(x.block, old)
	}
	x.ring[x.next] = k
	x.next = (x.next + 1) % len(x.ring)
	x.block[k] = block
	return true
}

// each calls f on the remembered positions, oldest first.
func (x *eventIndex) each(f func(channel, id string, block uint64)) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for i := range x.ring {
		k := x.ring[(x.next+i)%len(x.ring)]
		if k != (eventKey{}) {
			f(k.channel, k.id, x.block[k])
		}
	}
}

// get returns the block of event id of channel, if remembered.
func (x *eventIndex) get(channel, id string) (uint64, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	b, ok := x.block[eventKey{channel, id}]
	return b, ok
}
