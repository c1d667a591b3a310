package ledger

import (
	"encoding/base64"
	"encoding/binary"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// QueryEvents returns a page of the stored events matching the filter, by
// timestamp (then transaction and rank), ascending unless sort is
// DESCENDING. It uses paginated scans: evaluate transactions only.
// QueryEventsEncoded returns the same page encoded.
func (l *Tx) QueryEvents(param *protos.QueryEventsParam) (*protos.QueryEventsResponse, error) {
	w, err := l.walkEvents(param)
	if err != nil {
		return nil, err
	}
	res := &protos.QueryEventsResponse{NextPageToken: w.next, Events: make([]*protos.Event, 0, len(w.items))}
	for _, it := range w.items {
		ev, err := it.lg.event(it.e, w.channel)
		if err != nil {
			return nil, orcerr.Wrap(orcerr.Internal, err, "read events")
		}
		res.Events = append(res.Events, ev)
	}
	if err := l.resolveEvents(res.Events); err != nil {
		return nil, err
	}
	return res, nil
}

// walkEvents finds the events of a QueryEvents page.
func (l *Tx) walkEvents(param *protos.QueryEventsParam) (*eventWalk, error) {
	if param.GetPageToken() == "" {
		if err := checkLayout(l.ChaincodeStubInterface); err != nil {
			return nil, err
		}
	}
	f := param.GetFilter()
	w := &eventWalk{l: l, f: f, size: int(param.GetPageSize()), channel: l.GetChannelID()}
	if w.size <= 0 {
		w.size = defaultPageSize
	}
	desc := param.GetSort() == protos.SortOrder_DESCENDING
	var err error
	switch key := f.GetAssetKey(); {
	case key != "" && !validKeyText(key):
		// No event has that key: it cannot be stored.
	case key != "":
		base := eventAssetBase(key)
		start, end := eventWindow(base, f)
		if desc {
			w.next, err = w.assetDesc(base, start, end, param.GetPageToken())
		} else {
			w.next, err = w.assetAsc(base, start, end, param.GetPageToken())
		}
	case desc:
		start, end := eventWindow(eventLogPrefix, f)
		w.next, err = w.logDesc(start, end, param.GetPageToken())
	default:
		start, end := eventWindow(eventLogPrefix, f)
		w.next, err = w.logAsc(start, end, param.GetPageToken())
	}
	if err != nil {
		return nil, err
	}
	return w, nil
}

// eventWalk is one QueryEvents page being filled.
type eventWalk struct {
	l       *Tx
	f       *protos.EventQueryFilter
	size    int
	channel string
	items   []pageItem
	next    string // the page token of the next page
}

// pageItem is an event of the page: the log entry that holds it, and
// where.
type pageItem struct {
	lg *eventLog
	e  logEvent
}

func (w *eventWalk) full() bool { return len(w.items) >= w.size }

// offer adds the event e of log entry lg to the page if it matches the
// filter. The kinds are read from the entry; the time window and the
// asset key are the walk's; only a metadata filter needs the event
// decoded.
func (w *eventWalk) offer(lg *eventLog, e logEvent) error {
	if !kindsMatch(e.assetKind, e.eventKind, w.f) {
		return nil
	}
	if len(w.f.GetMetadata()) > 0 {
		ev, err := lg.event(e, w.channel)
		if err != nil {
			return orcerr.Wrap(orcerr.Internal, err, "read events")
		}
		if !eventMatches(ev, w.f) {
			return nil
		}
	}
	w.items = append(w.items, pageItem{lg: lg, e: e})
	return nil
}

// Page tokens of the log walks hold a position: the key of a log entry and
// the rank of an event in it (the next one to visit), then, for a
// descending walk, the width of the time window to read next.

func encodeLogToken(key string, rank int, width int64) string {
	b := append([]byte(key), appendCount(nil, rank)...)
	if width > 0 {
		b = appendCount(b, int(min(width, 1<<62)))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeLogToken(token, start, end string) (key string, rank int, width int64, err error) {
	bad := orcerr.New(orcerr.BadRequest, "invalid page token %q", token)
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) < eventLogKeyLen {
		return "", 0, 0, bad
	}
	key = string(b[:eventLogKeyLen])
	if key < start || key > end {
		return "", 0, 0, bad
	}
	rank, rest, ok := parseCount(string(b[eventLogKeyLen:]))
	if !ok {
		return "", 0, 0, bad
	}
	if rest != "" {
		wd, tail, ok := parseCount(rest)
		if !ok || tail != "" || wd == 0 {
			return "", 0, 0, bad
		}
		width = int64(wd)
	}
	return key, rank, width, nil
}

// logChunk is how many log entries an ascending walk reads first; it then
// reads as many as it expects the page to need, up to scanChunk.
const logChunk = 4

// logAsc fills the page from the log entries in [start, end), oldest
// first.
func (w *eventWalk) logAsc(start, end, token string) (string, error) {
	bookmark, rank := "", 0
	if token != "" {
		var err error
		if bookmark, rank, _, err = decodeLogToken(token, start, end); err != nil {
			return "", err
		}
	}
	entriesRead := 0
	for chunk := logChunk; ; {
		it, meta, err := w.l.ChaincodeStubInterface.GetStateByRangeWithPagination(start, end, int32(chunk), bookmark)
		if err != nil {
			return "", orcerr.Wrap(orcerr.Internal, err, "scan events")
		}
		entries, _, err := drain(it, "", false)
		if err != nil {
			return "", orcerr.Wrap(orcerr.Internal, err, "scan events")
		}
		for _, e := range entries {
			lg, err := parseEventLog(e.Key, e.Value)
			if err != nil {
				return "", orcerr.Wrap(orcerr.Internal, err, "read events")
			}
			entriesRead++
			if e.Key == bookmark {
				if err := lg.skipTo(rank); err != nil {
					return "", orcerr.Wrap(orcerr.Internal, err, "read events")
				}
			}
			for {
				ev, ok, err := lg.next()
				if err != nil {
					return "", orcerr.Wrap(orcerr.Internal, err, "read events")
				}
				if !ok {
					break
				}
				if w.full() {
					return encodeLogToken(e.Key, ev.rank, 0), nil
				}
				if err := w.offer(lg, ev); err != nil {
					return "", err
				}
			}
		}
		next := meta.GetBookmark()
		if next == "" || len(entries) == 0 {
			return "", nil
		}
		if w.full() {
			return encodeLogToken(next, 0, 0), nil
		}
		bookmark, rank = next, 0
		// Read next about the entries that hold the events the page still
		// needs, at the rate of kept events per entry so far: a few for
		// registrations of many tasks, many for single status changes or a
		// filter that keeps few.
		chunk = scanChunk
		if kept := len(w.items); kept > 0 {
			chunk = min(max((w.size-kept+1)*entriesRead/kept+1, logChunk), scanChunk)
		}
	}
}

// firstWindow is the width of the first time window a descending walk
// reads; later ones are sized from the density of the events met.
const firstWindow = int64(time.Second)

// logDesc fills the page from the log entries in [start, end), newest
// first. Fabric cannot scan backwards: it reads the log in time windows
// going back from the end, each window read ascending then walked
// backwards, and sizes each window to hold about the events the page still
// needs, from the density of the previous one (doubling it while it finds
// none). It stops at the oldest log entry in [start, end).
func (w *eventWalk) logDesc(start, end, token string) (string, error) {
	upper := end // the walk visits the entries below upper
	lastKey, lastRank := "", -1
	width := firstWindow
	var t int64 // the time windows end at
	switch {
	case token != "":
		var err error
		if lastKey, lastRank, width, err = decodeLogToken(token, start, end); err != nil {
			return "", err
		}
		if width == 0 {
			width = firstWindow
		}
		upper = lastKey + "\x00"
		t, _ = keyTime(lastKey)
	case w.f.GetEnd() != nil:
		t = tsNanos(w.f.GetEnd())
	default:
		// Events are from transactions before this one, but a client may
		// have dated its transactions later: the first window has no end.
		now, err := w.l.Now()
		if err != nil {
			return "", err
		}
		t = tsNanos(now)
	}
	first, err := w.firstKey(start, upper)
	if err != nil || first == "" {
		return "", err
	}
	for {
		lo, last := start, false
		if t-width > 0 {
			lo = max(start, timeKey(eventLogPrefix, t-width))
		}
		if lo <= first {
			lo, last = start, true
		}
		entries, err := w.scanAll(lo, upper)
		if err != nil {
			return "", err
		}
		logs := make([]*eventLog, len(entries))
		held := 0 // the events of the window, for the width of the next
		for i, e := range entries {
			if logs[i], err = parseEventLog(e.Key, e.Value); err != nil {
				return "", orcerr.Wrap(orcerr.Internal, err, "read events")
			}
			held += logs[i].count
		}
		for i := len(entries) - 1; i >= 0; i-- {
			e, lg := entries[i], logs[i]
			evs := make([]logEvent, 0, lg.count)
			for {
				ev, ok, err := lg.next()
				if err != nil {
					return "", orcerr.Wrap(orcerr.Internal, err, "read events")
				}
				if !ok {
					break
				}
				evs = append(evs, ev)
			}
			top := len(evs) - 1
			if e.Key == lastKey {
				top = min(top, lastRank)
			}
			for r := top; r >= 0; r-- {
				if w.full() {
					return encodeLogToken(e.Key, r, nextWidth(width, held, w.size)), nil
				}
				if err := w.offer(lg, evs[r]); err != nil {
					return "", err
				}
			}
		}
		if last {
			return "", nil
		}
		upper, t = lo, t-width
		width = nextWidth(width, held, w.size-len(w.items))
	}
}

// nextWidth sizes the next time window of a descending walk for about
// need events, given that the last one, width wide, held seen (of any
// kind: the filter is not known to keep a steady share of them).
func nextWidth(width int64, seen, need int) int64 {
	if seen == 0 {
		return min(2*width, 1<<62)
	}
	// A quarter more than the density says, so that one window usually
	// does.
	w := float64(width) * float64(need+1) / float64(seen) * 1.25
	return int64(min(max(w, 1), 1<<62))
}

// firstKey returns the key of the oldest log entry in [start, end), or "".
func (w *eventWalk) firstKey(start, end string) (string, error) {
	it, _, err := w.l.ChaincodeStubInterface.GetStateByRangeWithPagination(start, end, 1, "")
	if err != nil {
		return "", orcerr.Wrap(orcerr.Internal, err, "scan events")
	}
	entries, _, err := drain(it, "", false)
	if err != nil {
		return "", orcerr.Wrap(orcerr.Internal, err, "scan events")
	}
	if len(entries) == 0 {
		return "", nil
	}
	return entries[0].Key, nil
}

// scanAll reads every entry in [start, end) with paginated scans.
func (w *eventWalk) scanAll(start, end string) ([]scanEntry, error) {
	var all []scanEntry
	bookmark := ""
	for {
		it, meta, err := w.l.ChaincodeStubInterface.GetStateByRangeWithPagination(start, end, scanChunk, bookmark)
		if err != nil {
			return nil, orcerr.Wrap(orcerr.Internal, err, "scan events")
		}
		entries, _, err := drain(it, "", false)
		if err != nil {
			return nil, orcerr.Wrap(orcerr.Internal, err, "scan events")
		}
		all = append(all, entries...)
		bookmark = meta.GetBookmark()
		if bookmark == "" || len(entries) < scanChunk {
			return all, nil
		}
	}
}

// keyTime returns the time of the log entry key.
func keyTime(key string) (int64, bool) {
	if len(key) != eventLogKeyLen {
		return 0, false
	}
	v, ok := parseFixed(key[len(eventLogPrefix):], timeChars)
	return int64(min(v, 1<<63-1)), ok
}

// assetAsc fills the page from the asset index entries in [start, end),
// oldest first. The page token is the key of the next entry to visit.
func (w *eventWalk) assetAsc(base, start, end, token string) (string, error) {
	var logs map[string][]byte
	p := pager{Token: token, Size: w.size}
	p.Load = func(chunk []scanEntry) error {
		var err error
		logs, err = w.loadLogs(chunk, base)
		return err
	}
	p.Keep = func(e scanEntry) (bool, error) {
		before := len(w.items)
		err := w.offerIndexed(e, base, logs)
		return len(w.items) > before, err
	}
	return w.l.pageRange(start, end, p)
}

// assetDesc fills the page from the asset index entries in [start, end),
// newest first: an asset has few events, so it reads them all in
// ascending order and walks them back. The page token is the key of the
// next entry to visit.
func (w *eventWalk) assetDesc(base, start, end, token string) (string, error) {
	if token != "" {
		last, err := decodeToken(token, start, end)
		if err != nil {
			return "", err
		}
		end = last + "\x00"
	}
	it, err := w.l.GetStateByRange(start, end)
	if err != nil {
		return "", orcerr.Wrap(orcerr.Internal, err, "scan events")
	}
	entries, _, err := drain(it, "", false)
	if err != nil {
		return "", orcerr.Wrap(orcerr.Internal, err, "scan events")
	}
	for hi := len(entries); hi > 0; {
		lo := max(0, hi-scanChunk)
		logs, err := w.loadLogs(entries[lo:hi], base)
		if err != nil {
			return "", err
		}
		for i := hi - 1; i >= lo; i-- {
			if w.full() {
				return encodeToken(entries[i].Key), nil
			}
			if err := w.offerIndexed(entries[i], base, logs); err != nil {
				return "", err
			}
		}
		hi = lo
	}
	return "", nil
}

// indexKinds returns the kinds an asset index entry holds.
func indexKinds(v []byte) (assetKind, eventKind uint64, ok bool) {
	a, n := binary.Uvarint(v)
	if n <= 0 {
		return 0, 0, false
	}
	e, m := binary.Uvarint(v[n:])
	return a, e, m > 0 && n+m == len(v)
}

// loadLogs reads, in one call, the log entries of the asset index entries
// under base whose kinds match the filter, by key.
func (w *eventWalk) loadLogs(entries []scanEntry, base string) (map[string][]byte, error) {
	keys := make([]string, 0, len(entries))
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		if ak, ek, ok := indexKinds(e.Value); ok && !kindsMatch(ak, ek, w.f) {
			continue
		}
		if k, _, ok := logPosOf(e.Key, base); ok && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	vals, err := w.l.GetMultipleStates(keys...)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "read events")
	}
	logs := make(map[string][]byte, len(keys))
	for i, v := range vals {
		logs[keys[i]] = v
	}
	return logs, nil
}

// offerIndexed offers the event of the asset index entry e under base,
// whose log entry is in logs.
func (w *eventWalk) offerIndexed(e scanEntry, base string, logs map[string][]byte) error {
	ak, ek, ok := indexKinds(e.Value)
	if !ok {
		return orcerr.New(orcerr.Internal, "event index entry %q: %v", e.Key, errLayout(e.Key))
	}
	if !kindsMatch(ak, ek, w.f) {
		return nil
	}
	key, rank, ok := logPosOf(e.Key, base)
	if !ok {
		return orcerr.New(orcerr.Internal, "event index entry %q: %v", e.Key, errLayout(e.Key))
	}
	b := logs[key]
	if b == nil {
		return orcerr.New(orcerr.Internal, "event index entry %q refers to log entry %q, which is not stored", e.Key, key)
	}
	lg, err := parseEventLog(key, b)
	if err == nil {
		err = lg.skipTo(rank)
	}
	if err != nil {
		return orcerr.Wrap(orcerr.Internal, err, "read events")
	}
	ev, ok, err := lg.next()
	if err != nil || !ok {
		return orcerr.New(orcerr.Internal, "event index entry %q: log entry %q has no event %d", e.Key, key, rank)
	}
	return w.offer(lg, ev)
}

func eventMatches(ev *protos.Event, f *protos.EventQueryFilter) bool {
	if f == nil {
		return true
	}
	if f.GetAssetKey() != "" && ev.GetAssetKey() != f.GetAssetKey() {
		return false
	}
	if f.GetAssetKind() != protos.AssetKind_ASSET_UNKNOWN && ev.GetAssetKind() != f.GetAssetKind() {
		return false
	}
	if f.GetEventKind() != protos.EventKind_EVENT_UNKNOWN && ev.GetEventKind() != f.GetEventKind() {
		return false
	}
	for k, v := range f.GetMetadata() {
		if got, ok := ev.GetMetadata()[k]; !ok || got != v {
			return false
		}
	}
	t := ev.GetTimestamp().AsTime()
	if f.GetStart() != nil && t.Before(f.GetStart().AsTime()) {
		return false
	}
	if f.GetEnd() != nil && t.After(f.GetEnd().AsTime()) {
		return false
	}
	return true
}

// resolveEvents completes the events read from the state that refer to
// their compute task instead of holding it (EmitComputeTask): a reference
// is a task that holds only a status, and its key is the event's asset
// key.
func (l *Tx) resolveEvents(evs []*protos.Event) error {
	var keys []string
	seen := map[string]bool{}
	for _, ev := range evs {
		if t := ev.GetComputeTask(); isTaskRef(t) && !seen[ev.GetAssetKey()] {
			seen[ev.GetAssetKey()] = true
			keys = append(keys, ev.GetAssetKey())
		}
	}
	if len(keys) == 0 {
		return nil
	}
	records, err := computeTaskRecords(l, keys)
	if err != nil {
		return err
	}
	for _, ev := range evs {
		ref := ev.GetComputeTask()
		if !isTaskRef(ref) {
			continue
		}
		b := records[ev.GetAssetKey()]
		if b == nil {
			return orcerr.New(orcerr.Internal, "event %s refers to compute task %s, which is not stored", ev.GetId(), ev.GetAssetKey())
		}
		t, err := ctDecode(ev.GetAssetKey(), b, nil)
		if err != nil {
			return err
		}
		t.Status = ref.GetStatus()
		ev.Asset = &protos.Event_ComputeTask{ComputeTask: t}
	}
	return nil
}

// isTaskRef reports whether t is a reference to a stored task: it holds
// nothing but a status (a stored task has a key and a creation date).
func isTaskRef(t *protos.ComputeTask) bool {
	return t != nil && proto.Equal(t, &protos.ComputeTask{Status: t.GetStatus()})
}
