package jobs

import (
	"sync"

	"github.com/automations-dev/automations/models"
)

// queueRoom counts the places of the runner's local queue. A place is
// free, filled (a delivery waits in the queue), or taken: by the claim
// loop for a claim in progress, or by an event transaction (Reserve) for a
// delivery it is inserting leased to this runner, filled by HandOff after
// the commit. Counting taken places as used is what keeps sends to the
// queue from ever blocking: the runner never holds more than it can start.
type queueRoom struct {
	mu    sync.Mutex
	queue chan models.Delivery // nil while Run is not running
	free  int
	// wanted: the loop waits for room to claim (older work, other
	// processes' events, retries); reservations wait for it rather than
	// take every place a worker frees, so claimed work is not starved.
	wanted bool
	made   chan struct{} // signalled when places are freed
}

func (q *queueRoom) open(queue chan models.Delivery) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.queue, q.free, q.wanted = queue, cap(queue), false
}

// close stops reservations and hand-overs; after it HandOff gives its
// deliveries back to the database.
func (q *queueRoom) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.queue = nil
}

// put frees n places.
func (q *queueRoom) put(n int) {
	if n <= 0 {
		return
	}
	q.mu.Lock()
	if q.queue != nil {
		q.free += n
	}
	q.mu.Unlock()
	select {
	case q.made <- struct{}{}:
	default:
	}
}

// takeForClaim takes every free place for a claim when at least half the
// queue is free or nothing waits in it; otherwise it takes none and marks
// a claim as wanted until it can.
func (q *queueRoom) takeForClaim() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.queue == nil {
		return 0
	}
	if q.free > 0 && (q.free >= cap(q.queue)/2 || len(q.queue) == 0) {
		n := q.free
		q.free, q.wanted = 0, false
		return n
	}
	q.wanted = true
	return 0
}

// Reserve takes up to n places for deliveries an event transaction is
// about to insert leased to this runner (models.DeliveryHandoff). It
// takes none while the runner is not running or waits to claim.
func (r *Runner) Reserve(n int) (models.LocalLease, int) {
	q := &r.room
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.queue == nil || q.wanted || q.free <= 0 || n <= 0 {
		return models.LocalLease{}, 0
	}
	got := min(n, q.free)
	q.free -= got
	return models.LocalLease{WorkerID: r.cfg.WorkerID, Lease: r.cfg.Lease}, got
}

// Unreserve gives back places Reserve took that no delivery will fill.
func (r *Runner) Unreserve(n int) { r.room.put(n) }

// HandOff queues deliveries a committed event transaction inserted leased
// to this runner, each in a place Reserve took: no claim, no query. If the
// runner stopped meanwhile, their leases are ended in the database so any
// worker takes them at once.
func (r *Runner) HandOff(ds []models.Delivery) {
	q := &r.room
	q.mu.Lock()
	var back []models.Delivery
	for i := range ds {
		if q.queue == nil {
			back = append(back, ds[i])
			continue
		}
		r.leases.add(ds[i].ID)
		select {
		case q.queue <- ds[i]: // the place was reserved, so there is room
		default:
			// Only if Run restarted between Reserve and HandOff.
			r.leases.remove(ds[i].ID)
			back = append(back, ds[i])
		}
	}
	q.mu.Unlock()
	r.giveBack(back)
}
