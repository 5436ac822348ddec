package log

import "github.com/prometheus/client_golang/prometheus"

// metrics are the sequencer's Prometheus metrics.
type metrics struct {
	batchSize   prometheus.Histogram
	integration prometheus.Histogram
	treeSize    prometheus.Gauge
	published   prometheus.Gauge

	commitFailures prometheus.Counter
}

func newMetrics(r prometheus.Registerer) *metrics {
	m := &metrics{
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pledgelog_sequencer_batch_entries",
			Help:    "New entries per sequenced batch.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		integration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pledgelog_sequencer_integration_seconds",
			Help:    "Time to admit, integrate, sign and durably commit one batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		treeSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pledgelog_tree_size",
			Help: "Entries in the latest committed checkpoint.",
		}),
		published: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pledgelog_published_tree_size",
			Help: "Entries in the latest published checkpoint.",
		}),
		commitFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pledgelog_sequencer_commit_failures_total",
			Help: "Batches whose storage commit returned an error (other than a conflict).",
		}),
	}
	if r != nil {
		r.MustRegister(m.batchSize, m.integration, m.treeSize, m.published, m.commitFailures)
	}
	return m
}
