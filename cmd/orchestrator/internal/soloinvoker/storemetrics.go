package soloinvoker

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fedchain/orchestrator/solo/store"
)

// InstrumentOpener wraps the stores that o opens so that the latency of
// their operations (begin, get, get_many, scan, commit, read_events) is
// observed in a histogram registered on reg.
func InstrumentOpener(o store.Opener, reg prometheus.Registerer) store.Opener {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "orchestrator", Subsystem: "store", Name: "operation_duration_seconds",
		Help:    "Latency of solo store operations, by operation.",
		Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
	}, []string{"op"})
	reg.MustRegister(h)
	m := &storeMetrics{
		begin: h.WithLabelValues("begin"), get: h.WithLabelValues("get"), getMany: h.WithLabelValues("get_many"),
		scan: h.WithLabelValues("scan"), commit: h.WithLabelValues("commit"), readEvents: h.WithLabelValues("read_events"),
	}
	return store.OpenerFunc(func(ctx context.Context, channel string) (store.Store, error) {
		st, err := o.Open(ctx, channel)
		if err != nil {
			return nil, err
		}
		return &timedStore{Store: st, m: m}, nil
	})
}

type storeMetrics struct {
	begin, get, getMany, scan, commit, readEvents prometheus.Observer
}

func since(o prometheus.Observer, t time.Time) { o.Observe(time.Since(t).Seconds()) }

type timedStore struct {
	store.Store
	m *storeMetrics
}

func (s *timedStore) Begin(ctx context.Context) (store.Reader, error) {
	defer since(s.m.begin, time.Now())
	r, err := s.Store.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &timedReader{Reader: r, m: s.m}, nil
}

func (s *timedStore) Commit(ctx context.Context, b *store.Batch) error {
	defer since(s.m.commit, time.Now())
	return s.Store.Commit(ctx, b)
}

func (s *timedStore) ReadEvents(ctx context.Context, after uint64, limit int) ([]store.Event, error) {
	defer since(s.m.readEvents, time.Now())
	return s.Store.ReadEvents(ctx, after, limit)
}

type timedReader struct {
	store.Reader
	m *storeMetrics
}

func (r *timedReader) Get(ctx context.Context, key string) (store.KV, error) {
	defer since(r.m.get, time.Now())
	return r.Reader.Get(ctx, key)
}

func (r *timedReader) GetMany(ctx context.Context, keys []string) ([]store.KV, error) {
	defer since(r.m.getMany, time.Now())
	return r.Reader.GetMany(ctx, keys)
}

func (r *timedReader) Scan(ctx context.Context, start, end string, limit int) ([]store.KV, error) {
	defer since(r.m.scan, time.Now())
	return r.Reader.Scan(ctx, start, end, limit)
}
