package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"

	"github.com/fedchain/orchestrator/protos"
)

// The events of a transaction are stored together, under one simple key
// (not a composite one, so that a time window is a key range), and each
// event has one entry in the index of its asset:
//
//	e<time><tx>               -> the transaction's events (eventLog)
//	a<asset key>\x00<time><tx><n> -> the event's asset and event kinds
//
// <time> is the transaction time in nanoseconds (timeChars characters),
// <tx> the transaction id, a SHA-256 in hex on Fabric and in solo (else
// its SHA-256), folded into 128 bits (uuidChars characters: unique per
// transaction, and as short as an asset key), <n> the event's rank in its transaction (appendCount) and <asset
// key> the asset key's compact form (appendKey). All of them sort as the
// numbers they stand for, so the log lists transactions by time (then by
// <tx>), and an asset's entries list its events in the same order.
//
// An asset index entry gives back the key of its transaction's log entry
// and the event's rank in it; its value, the two kinds (one byte each),
// lets a kind filter skip it without reading the log. There is no index in
// descending order: Fabric has no reverse scan, and a descending walk reads
// the log backwards in time windows instead (queryLogDesc).
const (
	eventLogPrefix   = "e"
	eventAssetPrefix = "a"
	// eventTxChars is the length of <tx>.
	eventTxChars = uuidChars
	// eventLogKeyLen is the length of a log entry's key.
	eventLogKeyLen = len(eventLogPrefix) + timeChars + eventTxChars
)

// eventLogKey returns the key of the log entry of transaction txID at
// nanos.
func eventLogKey(nanos int64, txID string) string {
	var b [eventLogKeyLen]byte
	return string(appendEventLogKey(b[:0], nanos, txID))
}

func appendEventLogKey(b []byte, nanos int64, txID string) []byte {
	b = append(b, eventLogPrefix...)
	b = appendTime(b, nanos)
	// A Fabric transaction id is already a SHA-256, in hex: its two halves
	// are folded into 128 bits; any other id is hashed first.
	var h [32]byte
	if n, err := hex.Decode(h[:], []byte(txID)); err != nil || n != 32 {
		h = sha256.Sum256([]byte(txID))
	}
	hi := binary.BigEndian.Uint64(h[0:8]) ^ binary.BigEndian.Uint64(h[16:24])
	lo := binary.BigEndian.Uint64(h[8:16]) ^ binary.BigEndian.Uint64(h[24:32])
	b = appendFixed(b, hi>>4, 10)
	b = appendFixed(b, (hi&15)<<2|lo>>62, 1)
	b = appendFixed(b, lo>>2&(1<<60-1), 10)
	return appendFixed(b, (lo&3)<<4, 1)
}

// eventAssetBase returns the prefix of the asset index entries of an
// asset: what precedes the position.
func eventAssetBase(assetKey string) string {
	b := make([]byte, 0, len(eventAssetPrefix)+uuidChars+1)
	b = append(b, eventAssetPrefix...)
	b = appendKey(b, assetKey)
	return string(append(b, 0))
}

// appendEventAssetKey appends the asset index entry of the n-th event of
// the transaction whose log key is logKey, under base (eventAssetBase).
func appendEventAssetKey(b []byte, base, logKey string, n int) []byte {
	b = append(b, base...)
	b = append(b, logKey[len(eventLogPrefix):]...)
	return appendCount(b, n)
}

// logPosOf returns the log entry key and the rank of the event whose asset
// index entry is key, under base.
func logPosOf(key, base string) (string, int, bool) {
	rest, ok := strings.CutPrefix(key, base)
	if !ok || len(rest) < timeChars+eventTxChars {
		return "", 0, false
	}
	n, tail, ok := parseCount(rest[timeChars+eventTxChars:])
	if !ok || tail != "" {
		return "", 0, false
	}
	return eventLogPrefix + rest[:timeChars+eventTxChars], n, true
}

// kindsMatch reports whether an event of the two kinds is of the asset and
// event kinds f asks for, if any.
func kindsMatch(assetKind, eventKind uint64, f *protos.EventQueryFilter) bool {
	if ak := f.GetAssetKind(); ak != protos.AssetKind_ASSET_UNKNOWN && uint64(ak) != assetKind {
		return false
	}
	if ek := f.GetEventKind(); ek != protos.EventKind_EVENT_UNKNOWN && uint64(ek) != eventKind {
		return false
	}
	return true
}

// timeKey returns the key prefix under base of the events at nanos.
func timeKey(base string, nanos int64) string {
	b := make([]byte, 0, len(base)+timeChars)
	b = append(b, base...)
	return string(appendTime(b, nanos))
}

// eventWindow is the key range under base of the events in the filter's
// time window.
func eventWindow(base string, f *protos.EventQueryFilter) (start, end string) {
	start, end = base, base+maxRune
	if from := f.GetStart(); from != nil {
		start = timeKey(base, tsNanos(from))
	}
	if to := f.GetEnd(); to != nil {
		// The window ends after every event at to.
		end = timeKey(base, tsNanos(to)) + "\x7f"
	}
	return start, end
}
