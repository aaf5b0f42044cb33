package live

import (
	"encoding/json"
	"sync/atomic"

	"github.com/nats-io/nats.go"
)

// SubjectPrefix starts every live subject: ntm.live.<view>.<province>.<unit>.
// Subscribe to ntm.live.> for everything, ntm.live.status.35.> for the
// statuses of province 35, ntm.live.*.*.13306 for one commune.
const SubjectPrefix = "ntm.live"

// NoToken stands in a live subject for a province or unit a change does not
// have (a resync, the country's own targets).
const NoToken = "_"

// Subject is the live subject of a change.
func Subject(m *Message) string {
	tok := func(s string) string {
		if s == "" {
			return NoToken
		}
		return s
	}
	return SubjectPrefix + "." + tok(m.View) + "." + tok(m.Province) + "." + tok(m.Unit)
}

// NATSPublisher publishes a hub's changes on NATS, each as the JSON of the
// change on its live subject. It is a hub subscriber with its own buffer:
// when NATS cannot keep up it falls behind and publishes a resync, it never
// blocks the hub.
type NATSPublisher struct {
	sub  *Subscription
	nc   *nats.Conn
	done chan struct{}

	sent   atomic.Uint64
	failed atomic.Uint64
}

// PublishNATS starts publishing h's changes on nc until Stop.
func PublishNATS(h *Hub, nc *nats.Conn) *NATSPublisher {
	p := &NATSPublisher{sub: h.Subscribe(Filter{}), nc: nc, done: make(chan struct{})}
	go p.run(h)
	return p
}

func (p *NATSPublisher) run(h *Hub) {
	defer close(p.done)
	for m := range p.sub.C() {
		b, err := json.Marshal(m)
		if err == nil {
			err = p.nc.Publish(Subject(&m), b)
		}
		if err != nil {
			if p.failed.Add(1) == 1 {
				h.log.Warn("publishing live changes on NATS", "err", err)
			}
			continue
		}
		p.sent.Add(1)
	}
}

// Sent and Failed count the messages published and those NATS refused.
func (p *NATSPublisher) Sent() uint64   { return p.sent.Load() }
func (p *NATSPublisher) Failed() uint64 { return p.failed.Load() }

// Stop stops publishing and waits for the publisher to finish.
func (p *NATSPublisher) Stop() {
	p.sub.Close()
	<-p.done
}
