package runtime

import (
	"container/heap"
	"time"
)

// Timers, alarms and cron actions live in their agent's timer heap,
// ordered by due time and then by the order they were armed. One Go timer
// per agent, set for the earliest entry, only wakes the agent: the owner
// goroutine then runs every entry that is due, in heap order. So actions
// due at the same time run in the order they were started, whatever Go's
// timer goroutines do, and an agent with many timers costs one Go timer.

// timerHeap implements heap.Interface over actions.
type timerHeap []*action

func (h timerHeap) Len() int { return len(h) }

func (h timerHeap) Less(i, j int) bool {
	if c := h[i].at.Compare(h[j].at); c != 0 {
		return c < 0
	}
	return h[i].seq < h[j].seq
}

func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h *timerHeap) Push(x any) {
	act := x.(*action)
	act.index = len(*h)
	*h = append(*h, act)
}

func (h *timerHeap) Pop() any {
	old := *h
	act := old[len(old)-1]
	old[len(old)-1] = nil
	act.index = -1
	*h = old[:len(old)-1]
	return act
}

// rearm sets the wake-up timer for the earliest entry (owner goroutine).
func (a *Agent) rearm() {
	if len(a.timers) == 0 {
		if a.wakeTimer != nil {
			a.wakeTimer.Stop()
		}
		return
	}
	d := max(time.Until(a.timers[0].at), 0)
	if a.wakeTimer == nil {
		a.wakeTimer = time.AfterFunc(d, a.wake)
	} else {
		a.wakeTimer.Reset(d)
	}
}

// wake runs on a Go timer goroutine: it queues one drain of the heap.
func (a *Agent) wake() {
	a.wakeMu.Lock()
	post := !a.wakePosted
	a.wakePosted = true
	a.wakeMu.Unlock()
	if post {
		a.mb.push(entry{kind: entryFunc, fn: a.drainTimers}, false)
	}
}

// drainTimers runs, in order, every entry due now that was armed before
// the drain began (one armed meanwhile with no delay waits for the next
// drain, so a callback that re-arms itself at once cannot starve the
// mailbox). A Go panic in one does not lose the others.
func (a *Agent) drainTimers() {
	a.wakeMu.Lock()
	a.wakePosted = false
	a.wakeMu.Unlock()
	now := time.Now()
	last := a.rt.seq.Load()
	for len(a.timers) > 0 && !a.timers[0].at.After(now) && a.timers[0].seq <= last && !a.stopping {
		act := heap.Pop(&a.timers).(*action)
		a.safely(func() { act.fire() })
	}
	a.rearm()
}
