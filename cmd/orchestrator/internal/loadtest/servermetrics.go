package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// serverSample is what the servers' metrics endpoints said at one moment,
// summed over the endpoints.
type serverSample struct {
	cpuSeconds float64 // process_cpu_seconds_total
	rssBytes   float64 // process_resident_memory_bytes
	heapBytes  float64 // go_memstats_heap_inuse_bytes
}

// ServerMemory is what the servers under test held at the end of a run, as
// their metrics endpoints report it (Config.ServerMetrics), summed over
// them.
type ServerMemory struct {
	// RSSMiB is the servers' resident set size.
	RSSMiB float64 `json:"rss_mib"`
	// HeapInuseMiB is the Go heap in use, collected or not.
	HeapInuseMiB float64 `json:"heap_inuse_mib"`
}

// serverMetrics scrapes the Prometheus endpoints of the servers under test
// (orchestrator --metrics-listen): their own CPU and memory, which the load
// tool's figures cannot tell apart from its own.
type serverMetrics struct {
	urls   []string
	client *http.Client
}

func newServerMetrics(urls []string, timeout time.Duration) *serverMetrics {
	if len(urls) == 0 {
		return nil
	}
	return &serverMetrics{urls: urls, client: &http.Client{Timeout: timeout}}
}

// sample scrapes every endpoint; the first failure is the error.
func (m *serverMetrics) sample(ctx context.Context) (serverSample, error) {
	var s serverSample
	for _, u := range m.urls {
		fams, err := m.scrape(ctx, u)
		if err != nil {
			return s, fmt.Errorf("server metrics %s: %w", u, err)
		}
		cpu, ok := gaugeOrCounter(fams["process_cpu_seconds_total"])
		if !ok {
			return s, fmt.Errorf("server metrics %s: no process_cpu_seconds_total (is it an orchestrator's --metrics-listen?)", u)
		}
		s.cpuSeconds += cpu
		rss, _ := gaugeOrCounter(fams["process_resident_memory_bytes"])
		heap, _ := gaugeOrCounter(fams["go_memstats_heap_inuse_bytes"])
		s.rssBytes += rss
		s.heapBytes += heap
	}
	return s, nil
}

func (m *serverMetrics) scrape(ctx context.Context, url string) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	// The text format: the parser below reads nothing else.
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	res, err := m.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
		return nil, fmt.Errorf("HTTP %s", res.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	return fams, nil
}

// gaugeOrCounter returns the value of a family's single unlabelled sample.
func gaugeOrCounter(f *dto.MetricFamily) (float64, bool) {
	if f == nil || len(f.GetMetric()) != 1 {
		return 0, false
	}
	m := f.GetMetric()[0]
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue(), true
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue(), true
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue(), true
	}
	return 0, false
}

// errNoServerMetrics is returned by a run whose metrics endpoints cannot be
// read before the first phase.
var errNoServerMetrics = errors.New("load test: cannot read the servers' metrics")
