package publisher

import (
	"sync"

	"github.com/apilens/apilens"
)

// queue is a group's bounded FIFO of events. One lock per Publish call
// and per batch taken, rather than a channel operation per event: the
// queue holds tens of thousands of events at the agent's defaults.
type queue struct {
	mu     sync.Mutex
	buf    []apilens.Event // buf[head:] are waiting
	head   int
	max    int
	closed bool
	ready  chan struct{} // signalled when events are added, and on close
	space  chan struct{} // signalled when events are taken
}

func newQueue(max int) *queue {
	return &queue{max: max, ready: make(chan struct{}, 1), space: make(chan struct{}, 1)}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// push adds as many of events as fit and returns how many that was.
func (q *queue) push(events []apilens.Event) int {
	q.mu.Lock()
	n := min(len(events), q.max-(len(q.buf)-q.head))
	if n > 0 && len(q.buf)+n > cap(q.buf) && q.head > 0 {
		// Move the waiting events to the front rather than grow.
		k := copy(q.buf, q.buf[q.head:])
		clear(q.buf[k:])
		q.buf, q.head = q.buf[:k], 0
	}
	q.buf = append(q.buf, events[:n]...)
	q.mu.Unlock()
	if n > 0 {
		signal(q.ready)
	}
	return n
}

// take appends up to n events to dst; closed reports whether the queue
// was closed (no more events will come once it is empty).
func (q *queue) take(dst []apilens.Event, n int) (_ []apilens.Event, closed bool) {
	q.mu.Lock()
	k := min(n, len(q.buf)-q.head)
	dst = append(dst, q.buf[q.head:q.head+k]...)
	// Zeroed so the strings of sent events can be collected.
	clear(q.buf[q.head : q.head+k])
	q.head += k
	if q.head == len(q.buf) {
		q.buf, q.head = q.buf[:0], 0
	}
	closed = q.closed
	q.mu.Unlock()
	if k > 0 {
		signal(q.space)
	}
	return dst, closed
}

// discard empties the queue and returns how many events it held.
func (q *queue) discard() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.buf) - q.head
	clear(q.buf)
	q.buf, q.head = q.buf[:0], 0
	return n
}

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.buf) - q.head
}

// close marks the queue closed and wakes its sender.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	signal(q.ready)
}
