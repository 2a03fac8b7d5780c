package call

import (
	"testing"
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
)

func TestAdmissionSetupRate(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	m := &Manager{cfg: Config{MaxSetupRate: 10}, now: func() time.Time { return now }, calls: map[string]*Call{}}
	admitted := 0
	for range 25 {
		if m.admit() == nil {
			admitted++
			m.release()
		}
	}
	if admitted != 10 {
		t.Fatalf("a burst admitted %d calls, want one second's worth (10)", admitted)
	}
	if err := m.Admissible(); acs.AsError(err).Status != 429 {
		t.Fatalf("over the rate: %v, want 429", err)
	}
	now = now.Add(300 * time.Millisecond) // 3 tokens come back
	admitted = 0
	for range 10 {
		if m.admit() == nil {
			admitted++
			m.release()
		}
	}
	if admitted != 3 {
		t.Fatalf("after 300 ms at 10/s: %d admitted, want 3", admitted)
	}
}

func TestAdmissionConcurrencyCountsReservations(t *testing.T) {
	m := &Manager{cfg: Config{MaxConcurrent: 2}, now: time.Now, calls: map[string]*Call{}}
	if m.admit() != nil || m.admit() != nil {
		t.Fatal("the first two calls were refused")
	}
	// Two admitted calls not registered yet still take their room.
	if err := m.admit(); acs.AsError(err).Status != 503 {
		t.Fatalf("third call: %v, want 503", err)
	}
	m.release()
	if err := m.Admissible(); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	m.draining = true
	if err := m.Admissible(); acs.AsError(err).Status != 503 {
		t.Fatalf("while draining: %v", err)
	}
}
