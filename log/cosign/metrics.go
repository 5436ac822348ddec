package cosign

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the collector's Prometheus metrics (see the package
// comment).
type metrics struct {
	lagEntries, lagSeconds, lastSuccess *prometheus.GaugeVec
	failures                            *prometheus.CounterVec
	request                             *prometheus.HistogramVec
	cosignedSize                        prometheus.Gauge
}

func newMetrics(r prometheus.Registerer, witnesses []string) (*metrics, error) {
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"witness"})
	}
	m := &metrics{
		lagEntries:  gauge("pledgelog_witness_lag_entries", "Committed entries the witness has not cosigned."),
		lagSeconds:  gauge("pledgelog_witness_lag_seconds", "How long the witness has not cosigned the latest committed tree (0 when it has)."),
		lastSuccess: gauge("pledgelog_witness_last_success_timestamp_seconds", "When the witness last returned a valid cosignature (Unix time)."),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pledgelog_witness_failures_total",
			Help: "Failed add-checkpoint requests, by HTTP status or network, bad-response, fork, ahead, proof.",
		}, []string{"witness", "status"}),
		request: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pledgelog_witness_request_seconds",
			Help:    "add-checkpoint round trips that got an answer.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}, []string{"witness"}),
		cosignedSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pledgelog_cosigned_tree_size",
			Help: "Entries in the latest checkpoint published with a quorum of cosignatures.",
		}),
	}
	for _, w := range witnesses {
		m.lagEntries.WithLabelValues(w)
		m.lagSeconds.WithLabelValues(w)
		m.lastSuccess.WithLabelValues(w)
	}
	if r == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.lagEntries, m.lagSeconds, m.lastSuccess, m.failures, m.request, m.cosignedSize} {
		if err := r.Register(c); err != nil {
			return nil, errors.Join(errors.New("cosign: registering metrics"), err)
		}
	}
	return m, nil
}
