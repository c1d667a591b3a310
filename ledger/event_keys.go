package ledger

import (
	"math"
	"strconv"
	"strings"

	"github.com/fedchain/orchestrator/protos"
)

// Events are stored under simple keys (not composite ones) so that a time
// window is a key range:
//
//	event\x00all\x00a\x00<time>\x00<tx id>\x00<n><kinds>      -> the event (binary proto)
//	event\x00all\x00d\x00<rev time>\x00<rev tx id>\x00<rev n><kinds> -> marker
//	event\x00key\x00<asset key>\x00<time>\x00<tx id>\x00<n><kinds> -> marker
//
// <time> is the transaction time in nanoseconds, 20 digits, and <n> the
// event's rank in its transaction, 6 digits; the "d" (descending) entries
// invert time, tx id and rank so that an ascending scan lists them newest
// first. <kinds> is the asset kind and the event kind, 3 digits each, each
// after a U+0000: it follows the rank, so it does not change the order, and
// a filter on either kind is checked on the key without reading the event.
//
// The two index entries hold no copy of the primary key: it is computed
// from theirs (primaryOf), because on Fabric every stored byte is carried,
// validated and compacted by each peer. An asset's events are few, so
// the descending order of one asset's events is the ascending scan
// reversed (queryAssetEventsDesc), which saves a fourth entry per event.
const eventPrefix = "event\x00"

// appendPadded appends v in decimal, left-padded with zeros to width
// digits (v must be non-negative).
func appendPadded(b []byte, v int64, width int) []byte {
	var d [20]byte
	i := len(d)
	for v > 0 || i == len(d) {
		i--
		d[i] = byte('0' + v%10)
		v /= 10
	}
	for n := len(d) - i; n < width; n++ {
		b = append(b, '0')
	}
	return append(b, d[i:]...)
}

func ascTime(nanos int64) string { return string(appendPadded(nil, nanos, 20)) }

func descTime(nanos int64) string { return string(appendPadded(nil, math.MaxInt64-nanos, 20)) }

// appendInvertedHex appends s with each hex digit d mapped to f-d, so that
// hex strings sort in reverse; other bytes are kept.
func appendInvertedHex(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			c = "fedcba9876"[c-'0']
		case c >= 'a' && c <= 'f':
			c = "543210"[c-'a']
		}
		b = append(b, c)
	}
	return b
}

// kindsLen is the length of the <kinds> suffix of a primary event key.
const kindsLen = 1 + 3 + 1 + 3

// appendKinds appends the <kinds> suffix of the event's primary key.
func appendKinds(b []byte, ev *protos.Event) []byte {
	b = append(b, 0)
	b = appendPadded(b, int64(ev.GetAssetKind()), 3)
	b = append(b, 0)
	return appendPadded(b, int64(ev.GetEventKind()), 3)
}

// kindsMatch reports whether the primary event key primary is of the
// asset and event kinds f asks for, if any.
func kindsMatch(primary string, f *protos.EventQueryFilter) bool {
	if len(primary) < kindsLen {
		return false
	}
	k := primary[len(primary)-kindsLen:]
	if ak := f.GetAssetKind(); ak != protos.AssetKind_ASSET_UNKNOWN && k[1:4] != string(appendPadded(nil, int64(ak), 3)) {
		return false
	}
	if ek := f.GetEventKind(); ek != protos.EventKind_EVENT_UNKNOWN && k[5:8] != string(appendPadded(nil, int64(ek), 3)) {
		return false
	}
	return true
}

// The prefixes of the three entries of an event.
const (
	eventAllAsc  = eventPrefix + "all\x00a\x00"
	eventAllDesc = eventPrefix + "all\x00d\x00"
	eventByKey   = eventPrefix + "key\x00"
)

// eventRankWidth is the number of digits of an event's rank in its
// transaction.
const eventRankWidth = 6

// appendEventPos appends the position of the n-th event of transaction
// txID at nanos: <time>\x00<tx id>\x00<n>.
func appendEventPos(b []byte, nanos int64, txID string, n int) []byte {
	b = appendPadded(b, nanos, 20)
	b = append(b, 0)
	b = append(b, txID...)
	b = append(b, 0)
	return appendPadded(b, int64(n), eventRankWidth)
}

// appendEventDescPos appends the inverted position of the n-th event of
// transaction txID at nanos, which sorts newest first.
func appendEventDescPos(b []byte, nanos int64, txID string, n int) []byte {
	b = appendPadded(b, math.MaxInt64-nanos, 20)
	b = append(b, 0)
	b = appendInvertedHex(b, txID)
	b = append(b, 0)
	return appendPadded(b, int64(999999-n), eventRankWidth)
}

// primaryOf returns the primary key of the event whose index entry is key,
// or "" if key is no event index entry. For an entry of the asset index,
// base is its prefix up to the position (eventByKey, asset key, U+0000).
func primaryOf(key, base string) string {
	if rest, ok := strings.CutPrefix(key, base); ok && base != eventAllDesc {
		return eventAllAsc + rest
	}
	rest, ok := strings.CutPrefix(key, eventAllDesc)
	if !ok || len(rest) < 20+1+1+eventRankWidth+kindsLen {
		return ""
	}
	rev, err := strconv.ParseInt(rest[:20], 10, 64)
	if err != nil || rest[20] != 0 {
		return ""
	}
	tail := rest[len(rest)-eventRankWidth-kindsLen:]
	revN, err := strconv.Atoi(tail[:eventRankWidth])
	if err != nil || rest[len(rest)-len(tail)-1] != 0 {
		return ""
	}
	revTx := rest[21 : len(rest)-len(tail)-1]
	b := make([]byte, 0, len(eventAllAsc)+len(rest))
	b = append(b, eventAllAsc...)
	b = appendPadded(b, math.MaxInt64-rev, 20)
	b = append(b, 0)
	b = appendInvertedHex(b, revTx)
	b = append(b, 0)
	b = appendPadded(b, int64(999999-revN), eventRankWidth)
	return string(append(b, tail[eventRankWidth:]...))
}

// eventWindow is the key range under base of the events in the filter's
// time window.
func eventWindow(base string, f *protos.EventQueryFilter, desc bool) (start, end string) {
	start, end = base, base+maxRune
	from, to := f.GetStart(), f.GetEnd()
	bound := ascTime
	if desc {
		from, to, bound = to, from, descTime
	}
	if from != nil {
		start = base + bound(from.AsTime().UnixNano())
	}
	if to != nil {
		end = base + bound(to.AsTime().UnixNano()) + "\x01"
	}
	return start, end
}
