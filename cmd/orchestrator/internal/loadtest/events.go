package loadtest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"time"

	"github.com/fedchain/orchestrator/protos"
)

// maxEventIDs bounds the event ids kept to compare the subscription with.
const maxEventIDs = 1 << 20

// maxEventPages bounds a QueryEvents walk.
const maxEventPages = 100_000

// eventKinds are the asset kinds events are counted by.
var eventKinds = []protos.AssetKind{
	protos.AssetKind_ASSET_ORGANIZATION,
	protos.AssetKind_ASSET_DATA_SAMPLE,
	protos.AssetKind_ASSET_DATA_MANAGER,
	protos.AssetKind_ASSET_FUNCTION,
	protos.AssetKind_ASSET_COMPUTE_TASK,
	protos.AssetKind_ASSET_COMPUTE_PLAN,
	protos.AssetKind_ASSET_MODEL,
	protos.AssetKind_ASSET_PERFORMANCE,
	protos.AssetKind_ASSET_FAILURE_REPORT,
	protos.AssetKind_ASSET_COMPUTE_TASK_OUTPUT_ASSET,
	protos.AssetKind_ASSET_PROFILING_STEP,
}

// minEvents is, per asset kind, how many events this run's successful calls
// must at least have emitted (creations, plus two function updates).
func (r *runner) minEvents() map[protos.AssetKind]int64 {
	return map[protos.AssetKind]int64{
		protos.AssetKind_ASSET_FUNCTION:     r.registered["functions"] + 2*int64(countTrue(r.builtOK)),
		protos.AssetKind_ASSET_DATA_MANAGER: r.registered["datamanagers"],
		protos.AssetKind_ASSET_DATA_SAMPLE:  r.registered["datasamples"],
		protos.AssetKind_ASSET_COMPUTE_PLAN: r.registered["plans"],
		// a creation, then BUILDING, WAITING, EXECUTING and DONE updates for
		// the tasks that ran; creations only for the others.
		protos.AssetKind_ASSET_COMPUTE_TASK: r.registered["tasks"],
		protos.AssetKind_ASSET_MODEL:        r.registered["models"],
	}
}

// queryEvents walks all the events of the channel in ascending order, on
// every worker at once (Config.Concurrency walks per read round, the
// organizations taking turns walk by walk), and the events of each asset
// kind. Every walk must find the same events in the same order, the kinds
// must add up to the total and hold at least what this run emitted. Every
// event received counts as an item, those of the by-kind walks too: items/s
// is what the server delivered.
func (r *runner) queryEvents(rec *recorder) {
	full := r.cfg.Concurrency * r.cfg.rounds()
	counts := make([]int64, full+len(eventKinds))
	ok := make([]bool, len(counts))
	// The first walk keeps its ids (the subscription is checked against
	// them); every walk keeps a digest of its order to compare with it.
	var firstIDs []string
	digests := make([]uint64, full)
	r.parallel(len(counts), func(j int) {
		c := r.client(r.cfg.Orgs[j%len(r.cfg.Orgs)])
		filter := &protos.EventQueryFilter{}
		method := "QueryEvents"
		if j >= full {
			filter.AssetKind = eventKinds[j-full]
			method = "QueryEvents.by-kind"
		}
		var ids []string
		order := fnv.New64a()
		var bad malformed
		defer bad.report(rec, "QueryEvents")
		token := ""
		for page := 0; r.ctx.Err() == nil; page++ {
			if page == maxEventPages {
				checkf(rec, "QueryEvents: still a next page after %d pages", page)
				return
			}
			var res *protos.QueryEventsResponse
			err := r.call(rec, method, 0, func(ctx context.Context) error {
				var err error
				res, err = c.event.QueryEvents(c.ctx(ctx), &protos.QueryEventsParam{
					PageToken: token, PageSize: uint32(r.cfg.EventPageSize), Filter: filter, Sort: protos.SortOrder_ASCENDING,
				})
				return err
			})
			if err != nil {
				return
			}
			evs := res.GetEvents()
			if len(evs) > r.cfg.EventPageSize {
				checkf(rec, "QueryEvents returned %d events for page size %d", len(evs), r.cfg.EventPageSize)
				return
			}
			for _, ev := range evs {
				if j >= full && ev.GetAssetKind() != filter.AssetKind {
					checkf(rec, "QueryEvents(kind %s) returned event %s of kind %s", filter.AssetKind, ev.GetId(), ev.GetAssetKind())
					return
				}
				if j == 0 && len(ids) < maxEventIDs {
					ids = append(ids, ev.GetId())
				}
				if j < full {
					order.Write([]byte(ev.GetId()))
					order.Write([]byte{0})
				}
				bad.check(ev, r.cfg.Channel)
			}
			counts[j] += int64(len(evs))
			rec.addItems(len(evs))
			next := res.GetNextPageToken()
			if next == "" || len(evs) == 0 {
				break
			}
			if next == token {
				checkf(rec, "QueryEvents returned its page token %q as the next one", token)
				return
			}
			token = next
		}
		ok[j] = r.ctx.Err() == nil
		if j == 0 {
			firstIDs = ids
		}
		if j < full {
			digests[j] = order.Sum64()
		}
	})
	if slices.Contains(ok, false) {
		return
	}
	ids := firstIDs
	if dup := firstDuplicate(ids); dup != "" {
		checkf(rec, "QueryEvents returned event %s twice", dup)
	}
	for j := 1; j < full; j++ {
		if counts[j] != counts[0] || digests[j] != digests[0] {
			checkf(rec, "QueryEvents walk %d (as %s) found %d events, walk 0 %d, or not in the same order",
				j, r.cfg.Orgs[j%len(r.cfg.Orgs)], counts[j], counts[0])
		}
	}
	r.eventTotal = int(counts[0])
	if len(ids) == int(counts[0]) {
		r.eventIDs = ids
	}
	var sum int64
	least := r.minEvents()
	for j, k := range eventKinds {
		n := counts[full+j]
		sum += n
		if n < least[k] {
			checkf(rec, "QueryEvents(kind %s) found %d events, want at least %d (this run's)", k, n, least[k])
		}
	}
	if sum != counts[0] {
		checkf(rec, "QueryEvents: the asset kinds add up to %d events, the unfiltered walk found %d", sum, counts[0])
	}
	rec.note("%d events on channel %s, walked %d times in full and once by asset kind", counts[0], r.cfg.Channel, full)
}

// subscribeEvents replays the channel's events from the start until it has
// as many as QueryEvents counted, each once and each one QueryEvents found,
// once per read round, each replay in the order of the first; then it
// resumes from the middle of that replay (start_event_id), which
// must deliver the rest of the replay in the same order. Every event counts
// as one "Recv" call (its wait), so calls/s is events/s.
func (r *runner) subscribeEvents(rec *recorder) {
	want := r.eventTotal
	if want == 0 {
		rec.note("no event to replay")
		return
	}
	// known marks the ids QueryEvents found as delivered by the stream.
	var known map[string]bool
	if len(r.eventIDs) == want {
		known = make(map[string]bool, want)
		for _, id := range r.eventIDs {
			known[id] = false
		}
	}
	var order []string // the first replay's ids, if not too many
	var bad malformed
	defer bad.report(rec, "SubscribeToEvents")
	moved := 0
	start := time.Now()
	rounds := r.cfg.rounds()
	for round := range rounds {
		for id := range known {
			known[id] = false
		}
		ok := r.subscribe(rec, "SubscribeToEvents", "", want, func(i int, ev *protos.Event) error {
			if round == 0 && len(order) < maxEventIDs {
				order = append(order, ev.GetId())
			}
			if round > 0 && i < len(order) && ev.GetId() != order[i] {
				return fmt.Errorf("replay %d: event %d is %s, the first replay had %s", round+1, i, ev.GetId(), order[i])
			}
			bad.check(ev, r.cfg.Channel)
			if known == nil {
				return nil
			}
			delivered, found := known[ev.GetId()]
			switch {
			case !found:
				return fmt.Errorf("event %d of the subscription, %s, is not among the events QueryEvents found", i, ev.GetId())
			case delivered:
				return fmt.Errorf("event %d of the subscription, %s, came twice", i, ev.GetId())
			}
			known[ev.GetId()] = true
			if round == 0 && ev.GetId() != r.eventIDs[i] {
				moved++
			}
			return nil
		})
		if !ok {
			return
		}
	}
	secs := time.Since(start).Seconds()
	if rounds == 1 {
		rec.note("replayed %d events in %.2fs (%.0f events/s)", want, secs, float64(want)/secs)
	} else {
		rec.note("replayed %d events %d times in %.2fs (%.0f events/s)", want, rounds, secs, float64(want*rounds)/secs)
	}
	if moved > 0 {
		// Not an error: QueryEvents sorts by timestamp then id (as the
		// reference does), the stream is in commit order.
		rec.note("%d events came at another position than in QueryEvents' ascending order", moved)
	}
	if len(order) != want || want < 2 {
		return
	}
	mid := want / 2
	rest := order[mid+1:]
	r.subscribe(rec, "SubscribeToEvents.resume", order[mid], len(rest), func(i int, ev *protos.Event) error {
		if ev.GetId() != rest[i] {
			return fmt.Errorf("resumed after event %s (#%d): event %d is %s, the replay had %s", order[mid], mid, i, ev.GetId(), rest[i])
		}
		return nil
	})
}

// subscribe opens a subscription after event startID (from the start when
// "") and receives n events, handing each to visit; it reports whether all
// came and passed. The stream is cancelled when it returns; the wait of
// every Recv is recorded as a call of method+".Recv".
func (r *runner) subscribe(rec *recorder, method, startID string, n int, visit func(i int, ev *protos.Event) error) bool {
	c := r.client(r.w.dataOrg)
	ctx, cancel := context.WithCancelCause(r.ctx)
	defer cancel(nil)
	idle := fmt.Errorf("no event for %v (call-timeout)", r.cfg.CallTimeout)
	watchdog := time.AfterFunc(r.cfg.CallTimeout, func() { cancel(idle) })
	defer watchdog.Stop()

	start := time.Now()
	stream, err := c.event.SubscribeToEvents(c.ctx(ctx), &protos.SubscribeToEventsParam{StartEventId: startID})
	rec.call(method, time.Since(start), 0, err)
	if err != nil {
		return false
	}
	for i := range n {
		t := time.Now()
		ev, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("stream ended after %d of %d events", i, n)
			}
			if ctx.Err() != nil {
				err = fmt.Errorf("%w (%v)", err, context.Cause(ctx))
			}
			rec.call(method+".Recv", time.Since(t), 0, err)
			return false
		}
		watchdog.Reset(r.cfg.CallTimeout)
		rec.call(method+".Recv", time.Since(t), 1, nil)
		if err := visit(i, ev); err != nil {
			checkf(rec, "%v", err)
			return false
		}
	}
	return true
}

// malformed counts the events that lack what every event carries, keeping
// the first problem.
type malformed struct {
	n     int
	first string
}

// check looks at ev: an id, a timestamp, a kind, the caller's channel, and
// an asset whose key is the event's asset key (the parent task's key for a
// task output asset, as in the reference).
func (m *malformed) check(ev *protos.Event, channel string) {
	var problem string
	key, keyed := eventAssetKey(ev)
	switch {
	case ev.GetId() == "" || ev.GetTimestamp() == nil:
		problem = "no id or no timestamp"
	case ev.GetEventKind() == protos.EventKind_EVENT_UNKNOWN:
		problem = "no event kind"
	case ev.GetChannel() != channel:
		problem = fmt.Sprintf("channel %q, want %q", ev.GetChannel(), channel)
	case ev.GetAssetKey() == "":
		problem = "no asset key"
	case keyed && key != ev.GetAssetKey():
		problem = fmt.Sprintf("asset key %q, its %s asset has key %q", ev.GetAssetKey(), ev.GetAssetKind(), key)
	default:
		return
	}
	m.n++
	if m.first == "" {
		m.first = fmt.Sprintf("event %s (%s %s): %s", ev.GetId(), ev.GetAssetKind(), ev.GetEventKind(), problem)
	}
}

func (m *malformed) report(rec *recorder, method string) {
	if m.n > 0 {
		checkf(rec, "%s: %d malformed events, first: %s", method, m.n, m.first)
	}
}

// eventAssetKey returns the key of the asset an event carries, and whether
// its kind has one to compare.
func eventAssetKey(ev *protos.Event) (string, bool) {
	switch ev.GetAssetKind() {
	case protos.AssetKind_ASSET_ORGANIZATION:
		return ev.GetOrganization().GetId(), true
	case protos.AssetKind_ASSET_DATA_SAMPLE:
		return ev.GetDataSample().GetKey(), true
	case protos.AssetKind_ASSET_DATA_MANAGER:
		return ev.GetDataManager().GetKey(), true
	case protos.AssetKind_ASSET_FUNCTION:
		return ev.GetFunction().GetKey(), true
	case protos.AssetKind_ASSET_COMPUTE_TASK:
		return ev.GetComputeTask().GetKey(), true
	case protos.AssetKind_ASSET_COMPUTE_PLAN:
		return ev.GetComputePlan().GetKey(), true
	case protos.AssetKind_ASSET_MODEL:
		return ev.GetModel().GetKey(), true
	case protos.AssetKind_ASSET_COMPUTE_TASK_OUTPUT_ASSET:
		return ev.GetComputeTaskOutputAsset().GetComputeTaskKey(), true
	default:
		return "", false
	}
}
