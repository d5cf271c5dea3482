package jobs

import (
	"sync"

	"github.com/automations-dev/automations/models"
)

// queueRoom counts the places of the runner's local queue (Concurrency of
// them). A place is free, filled (a delivery waits in the queue), or
// reserved by an event transaction (Reserve) for a delivery it is
// inserting leased to this runner, filled by HandOff after the commit. A
// claim asks for the free places without holding them, so an event
// committed meanwhile is still handed over; the claimed rows then take
// places, and free may drop below zero until workers catch up. The channel
// holds twice the places: a claim (at most the places free when it began)
// plus the reservations made meanwhile (at most as many) always fit, so
// sending to it never blocks.
type queueRoom struct {
	mu    sync.Mutex
	queue chan models.Delivery // nil while Run is not running
	size  int
	free  int
	// wanted: the loop waits for room to claim (older work, other
	// processes' events, retries); reservations wait for it rather than
	// take every place a worker frees, so claimed work is not starved.
	wanted bool
	made   chan struct{} // signalled when places are freed
}

func (q *queueRoom) open(queue chan models.Delivery, size int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.queue, q.size, q.free, q.wanted = queue, size, size, false
}

// close stops reservations and hand-overs; after it HandOff gives its
// deliveries back to the database.
func (q *queueRoom) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.queue = nil
}

// fill counts n claimed deliveries sent to the queue.
func (q *queueRoom) fill(n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.free -= n
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

// roomToClaim is how many deliveries a claim may take now: the free
// places, when at least half the queue is free or nothing waits in it.
// Otherwise it is 0 and a claim is wanted until there is room.
func (q *queueRoom) roomToClaim() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.queue == nil {
		return 0
	}
	if q.free > 0 && (q.free >= q.size/2 || len(q.queue) == 0) {
		q.wanted = false
		return q.free
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

// HasRoom reports whether Reserve would now give places.
func (r *Runner) HasRoom() bool {
	q := &r.room
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.queue != nil && !q.wanted && q.free > 0
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
		case q.queue <- ds[i]: // the place was reserved, so there is room (see queueRoom)
		default:
			// Only if Run restarted between Reserve and HandOff.
			r.leases.remove(ds[i].ID)
			back = append(back, ds[i])
		}
	}
	q.mu.Unlock()
	r.giveBack(back)
}

// Committed hands over the local deliveries of a committed event
// transaction and wakes the claim loop for any it queued
// (models.DeliveryHandoff, for a runner used directly).
func (r *Runner) Committed(local []models.Delivery, queued int) {
	r.HandOff(local)
	if queued > 0 {
		r.Wake()
	}
}
