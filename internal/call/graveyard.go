package call

import "time"

// graveyard remembers ended calls and connections for a while (their
// tombstones), so that a late request gets "the call has ended" rather
// than "not found". Tombstones expire in the order they were laid, so each
// costs O(1) to prune, however many calls ended recently. Guarded by
// Manager.mu.
type graveyard struct {
	ttl   time.Duration
	byID  map[string]tombstone
	order []burial // in the order laid; order[head:] are live
	head  int
}

// burial records when a tombstone was laid, for expiry.
type burial struct {
	id string
	at time.Time
}

func newGraveyard(ttl time.Duration) *graveyard {
	return &graveyard{ttl: ttl, byID: map[string]tombstone{}}
}

// lay records t for id, replacing any older tombstone, and expires those
// older than the TTL.
func (g *graveyard) lay(id string, t tombstone) {
	g.byID[id] = t
	g.order = append(g.order, burial{id: id, at: t.at})
	g.expire(t.at)
}

// get returns id's tombstone.
func (g *graveyard) get(id string) (tombstone, bool) {
	t, ok := g.byID[id]
	return t, ok
}

// expire drops tombstones laid more than the TTL before now.
func (g *graveyard) expire(now time.Time) {
	for g.head < len(g.order) {
		b := g.order[g.head]
		if now.Sub(b.at) <= g.ttl {
			break
		}
		if t, ok := g.byID[b.id]; ok && !t.at.After(b.at) {
			delete(g.byID, b.id) // not laid again since
		}
		g.order[g.head] = burial{}
		g.head++
	}
	// Reuse the front of the slice once most of it is expired.
	if g.head > 64 && g.head*2 >= len(g.order) {
		n := copy(g.order, g.order[g.head:])
		clear(g.order[n:])
		g.order, g.head = g.order[:n], 0
	}
}

// len is the number of tombstones kept.
func (g *graveyard) len() int { return len(g.byID) }
