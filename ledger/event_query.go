package ledger

import (
	"google.golang.org/protobuf/proto"

	"github.com/fedchain/orchestrator/protos"
	"github.com/fedchain/orchestrator/protos/orcerr"
)

// QueryEvents returns a page of the stored events matching the filter, by
// timestamp (then transaction and rank), ascending unless sort is
// DESCENDING. It uses paginated scans: evaluate transactions only.
func (l *Tx) QueryEvents(param *protos.QueryEventsParam) (*protos.QueryEventsResponse, error) {
	f := param.GetFilter()
	desc := param.GetSort() == protos.SortOrder_DESCENDING
	var res *protos.QueryEventsResponse
	var err error
	switch {
	case f.GetAssetKey() != "":
		base := eventByKey + f.GetAssetKey() + "\x00"
		start, end := eventWindow(base, f, false)
		if desc {
			res, err = l.queryAssetEventsDesc(base, start, end, param)
		} else {
			res, err = l.pageEvents(base, start, end, param)
		}
	case desc:
		start, end := eventWindow(eventAllDesc, f, true)
		res, err = l.pageEvents(eventAllDesc, start, end, param)
	default:
		start, end := eventWindow(eventAllAsc, f, false)
		res, err = l.pageEvents(eventAllAsc, start, end, param)
	}
	if err != nil {
		return nil, err
	}
	if err := l.resolveEvents(res.Events); err != nil {
		return nil, err
	}
	return res, nil
}

// pageEvents reads a page of the entries under base in [start, end), in
// key order: the events themselves (eventAllAsc), or index entries whose
// events it loads by chunk.
func (l *Tx) pageEvents(base, start, end string, param *protos.QueryEventsParam) (*protos.QueryEventsResponse, error) {
	f := param.GetFilter()
	direct := base == eventAllAsc
	var loaded map[string][]byte
	res := &protos.QueryEventsResponse{}
	p := pager{Token: param.GetPageToken(), Size: int(param.GetPageSize())}
	if !direct {
		p.Load = func(chunk []scanEntry) error {
			var err error
			loaded, err = l.loadEvents(chunk, base, f)
			return err
		}
	}
	p.Keep = func(e scanEntry) (bool, error) {
		if !kindsMatch(e.Key, f) {
			return false, nil
		}
		b := e.Value
		if !direct {
			b = loaded[primaryOf(e.Key, base)]
		}
		return keepEvent(res, b, f)
	}
	next, err := l.pageRange(start, end, p)
	if err != nil {
		return nil, err
	}
	res.NextPageToken = next
	return res, nil
}

// loadEvents reads, in one call, the stored events of the index entries
// under base whose kinds match f, by primary key.
func (l *Tx) loadEvents(entries []scanEntry, base string, f *protos.EventQueryFilter) (map[string][]byte, error) {
	keys := make([]string, 0, len(entries))
	for _, e := range entries {
		if kindsMatch(e.Key, f) {
			keys = append(keys, primaryOf(e.Key, base))
		}
	}
	vals, err := l.GetMultipleStates(keys...)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "read events")
	}
	loaded := make(map[string][]byte, len(keys))
	for i, v := range vals {
		loaded[keys[i]] = v
	}
	return loaded, nil
}

// keepEvent decodes the stored event b and appends it to res if it
// matches f.
func keepEvent(res *protos.QueryEventsResponse, b []byte, f *protos.EventQueryFilter) (bool, error) {
	if b == nil {
		return false, nil
	}
	ev := new(protos.Event)
	if err := proto.Unmarshal(b, ev); err != nil {
		return false, orcerr.Wrap(orcerr.Internal, err, "decode event")
	}
	if !eventMatches(ev, f) {
		return false, nil
	}
	res.Events = append(res.Events, ev)
	return true, nil
}

// queryAssetEventsDesc lists newest first the events of one asset, whose
// entries under base in [start, end) it reads in ascending order and walks
// back. The page token is the key of the next entry to visit.
func (l *Tx) queryAssetEventsDesc(base, start, end string, param *protos.QueryEventsParam) (*protos.QueryEventsResponse, error) {
	f := param.GetFilter()
	size := int(param.GetPageSize())
	if size <= 0 {
		size = defaultPageSize
	}
	if param.GetPageToken() != "" {
		last, err := decodeToken(param.GetPageToken(), start, end)
		if err != nil {
			return nil, err
		}
		end = last + "\x00"
	}
	it, err := l.GetStateByRange(start, end)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "scan events")
	}
	entries, _, err := drain(it, "", false)
	if err != nil {
		return nil, orcerr.Wrap(orcerr.Internal, err, "scan events")
	}
	res := &protos.QueryEventsResponse{}
	for hi := len(entries); hi > 0; {
		lo := max(0, hi-scanChunk)
		loaded, err := l.loadEvents(entries[lo:hi], base, f)
		if err != nil {
			return nil, err
		}
		for i := hi - 1; i >= lo; i-- {
			if len(res.Events) == size {
				res.NextPageToken = encodeToken(entries[i].Key)
				return res, nil
			}
			if !kindsMatch(entries[i].Key, f) {
				continue
			}
			if _, err := keepEvent(res, loaded[primaryOf(entries[i].Key, base)], f); err != nil {
				return nil, err
			}
		}
		hi = lo
	}
	return res, nil
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
// is a task with no creation date, which every stored task has.
func (l *Tx) resolveEvents(evs []*protos.Event) error {
	var keys []string
	seen := map[string]bool{}
	for _, ev := range evs {
		if t := ev.GetComputeTask(); t != nil && t.GetCreationDate() == nil && !seen[t.GetKey()] {
			seen[t.GetKey()] = true
			keys = append(keys, t.GetKey())
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
		if ref == nil || ref.GetCreationDate() != nil {
			continue
		}
		b := records[ref.GetKey()]
		if b == nil {
			return orcerr.New(orcerr.Internal, "event %s refers to compute task %s, which is not stored", ev.GetId(), ref.GetKey())
		}
		t := new(protos.ComputeTask)
		if err := proto.Unmarshal(b, t); err != nil {
			return orcerr.Wrap(orcerr.Internal, err, "decode compute task %s", ref.GetKey())
		}
		t.Status = ref.GetStatus()
		ev.Asset = &protos.Event_ComputeTask{ComputeTask: t}
	}
	return nil
}
