package runtime

import (
	"sync"
	"sync/atomic"
	"time"
)

// entryKind says what a mailbox entry carries.
type entryKind uint8

const (
	entryFunc     entryKind = iota // a control closure: timers, jobs, replies to Do
	entryNotice                    // a registry or subscription announcement (never dropped; see backpressure)
	entryReport                    // a report for one subscription (droppable)
	entryRequest                   // a request for one service (refused with a failure when full)
	entryResponse                  // a reply or failure for a conversation this agent started
	entryStop                      // stop the agent
)

// entry is one unit of work for an agent's owner goroutine. It is a small
// value type so that a batch of entries is one allocation.
type entry struct {
	kind entryKind
	fn   func()
	sub  *reportSub
	msg  *reportMsg
	req  *Request // a request, or for entryResponse, the answered request
}

// mailbox is an agent's bounded FIFO queue. Reports and requests count
// against the bound and are refused when it is reached; control entries
// (timers, jobs, registry and subscription notices, responses) are always
// accepted, so announcements are never lost. Every entry is taken in the
// order it was pushed.
//
// An agent has no goroutine while it has nothing to do: the push that
// finds it inactive marks it active and starts a goroutine (start) to run
// it; that goroutine parks the agent again, under the lock, only when the
// queue is empty. So at most one goroutine runs an agent at any time, and
// each run happens after the previous one (through the lock).
//
// Lock order: the mailbox lock is always the innermost lock.
type mailbox struct {
	mu      sync.Mutex
	q       []entry
	spare   []entry
	closed  bool
	active  bool
	limit   int64
	depth   atomic.Int64 // entries pushed and not yet processed
	bounded atomic.Int64 // reports and requests pushed and not yet processed
	notices atomic.Int64 // announcements pushed and not yet processed
	start   func()

	// Back-pressure on announcements (see Agent.backpressure): waiters
	// counts agents waiting for the notices to drain; drained, guarded by
	// mu, is closed when they have.
	waiters atomic.Int32
	drained chan struct{}
}

func newMailbox(limit int, start func()) *mailbox {
	return &mailbox{limit: int64(limit), start: start}
}

// push queues e. A bounded entry is refused when the mailbox is full;
// every entry is refused once the mailbox is closed. It reports whether e
// was queued.
func (m *mailbox) push(e entry, bounded bool) bool {
	m.mu.Lock()
	if m.closed || (bounded && m.bounded.Load() >= m.limit) {
		m.mu.Unlock()
		return false
	}
	m.q = append(m.q, e)
	m.depth.Add(1)
	if bounded {
		m.bounded.Add(1)
	} else if e.kind == entryNotice {
		m.notices.Add(1)
	}
	wake := !m.active
	m.active = true
	m.mu.Unlock()
	if wake {
		go m.start()
	}
	return true
}

// isClosed reports whether the mailbox refuses everything.
func (m *mailbox) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// park marks the agent inactive if nothing is queued, and reports whether
// it did; the caller must then return without touching the agent.
func (m *mailbox) park() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.q) > 0 {
		return false
	}
	m.active = false
	return true
}

// take removes and returns every queued entry.
func (m *mailbox) take() []entry {
	m.mu.Lock()
	q := m.q
	if len(q) == 0 {
		m.mu.Unlock()
		return nil
	}
	m.q = m.spare
	m.spare = nil
	m.mu.Unlock()
	return q
}

// recycle hands a processed batch back for reuse, bounding what is kept.
func (m *mailbox) recycle(q []entry) {
	if cap(q) > 4096 {
		return
	}
	clear(q)
	m.mu.Lock()
	if m.spare == nil {
		m.spare = q[:0]
	}
	m.mu.Unlock()
}

// done records that a taken entry has been processed.
func (m *mailbox) done(e *entry) {
	m.depth.Add(-1)
	switch e.kind {
	case entryReport, entryRequest:
		m.bounded.Add(-1)
	case entryNotice:
		if n := m.notices.Add(-1); n <= m.limit/2 && m.waiters.Load() > 0 {
			m.mu.Lock()
			if m.drained != nil {
				close(m.drained)
				m.drained = nil
			}
			m.mu.Unlock()
		}
	}
}

// congested reports whether the announcements queued are over the bound.
func (m *mailbox) congested() bool { return m.notices.Load() > m.limit }

// waitDrained waits until at most half the bound of announcements is
// queued, the mailbox closes or stop is closed; it reports false when the
// timer fired first.
func (m *mailbox) waitDrained(stop <-chan struct{}, timeout <-chan time.Time) bool {
	m.waiters.Add(1)
	defer m.waiters.Add(-1)
	for {
		m.mu.Lock()
		if m.closed || m.notices.Load() <= m.limit/2 {
			m.mu.Unlock()
			return true
		}
		if m.drained == nil {
			m.drained = make(chan struct{})
		}
		ch := m.drained
		m.mu.Unlock()
		select {
		case <-ch:
		case <-stop:
			return true
		case <-timeout:
			return false
		}
	}
}

// close refuses further entries and returns what is still queued.
func (m *mailbox) close() []entry {
	m.mu.Lock()
	m.closed = true
	if m.drained != nil {
		close(m.drained)
		m.drained = nil
	}
	q := m.q
	m.q = nil
	m.spare = nil
	m.mu.Unlock()
	return q
}
