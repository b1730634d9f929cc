package httpapi

import (
	"github.com/atrium-dev/atrium/realtime"
	"github.com/atrium-dev/atrium/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

type metrics struct {
	requests        *prometheus.CounterVec
	latency         *prometheus.HistogramVec
	eventsDelivered prometheus.Counter
	websockets      prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, st *store.Store, broker *realtime.Broker) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "atrium_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "atrium_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method"}),
		eventsDelivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "atrium_events_delivered_total", Help: "Events handed to WebSocket subscribers.",
		}),
		websockets: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "atrium_websockets_open", Help: "Open WebSocket event streams.",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.eventsDelivered, m.websockets)
	write, read := st.Pools()
	reg.MustRegister(collectors.NewDBStatsCollector(write, "atrium_"+st.Dialect()+"_write"))
	if read != write {
		reg.MustRegister(collectors.NewDBStatsCollector(read, "atrium_"+st.Dialect()+"_read"))
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "atrium_event_subscribers", Help: "Event stream subscribers on this node.",
	}, func() float64 { return float64(broker.Subscribers()) }))
	return m
}
