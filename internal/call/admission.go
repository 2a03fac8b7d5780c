package call

import (
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
)

// admission applies the limits on new calls: at most MaxConcurrent calls at
// once and at most MaxSetupRate new calls per second (a token bucket that
// holds one second's worth). Refusals are cheap and say when to retry, so
// the excess of an overload is turned away without hurting admitted calls.
type admission struct {
	reserved int       // admitted calls not registered yet
	tokens   float64   // new calls the rate limit allows now
	refilled time.Time // when tokens was last topped up
}

// admit reserves room for a new call, or says why not. The caller releases
// the reservation once the call is registered or has failed to start.
func (m *Manager) admit() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.admitLocked(); err != nil {
		return err
	}
	m.adm.reserved++
	return nil
}

// release ends a reservation made by admit.
func (m *Manager) release() {
	m.mu.Lock()
	m.adm.reserved--
	m.mu.Unlock()
}

// Admissible reports whether a new call would be admitted now, without
// taking room for it, so that signalling can refuse the excess of an
// overload before doing any work for it.
func (m *Manager) Admissible() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.check(false)
}

// admitLocked admits a call (taking a rate token) with m.mu held.
func (m *Manager) admitLocked() error { return m.check(true) }

func (m *Manager) check(take bool) error {
	if m.draining {
		return acs.Unavailable("the server is shutting down")
	}
	if max := m.cfg.MaxConcurrent; max > 0 && len(m.calls)+m.adm.reserved >= max {
		return acs.Unavailable("the server is at its limit of %d concurrent calls", max)
	}
	if rate := m.cfg.MaxSetupRate; rate > 0 {
		now := m.now()
		burst := max(rate, 1)
		if m.adm.refilled.IsZero() {
			m.adm.tokens = burst
		} else {
			m.adm.tokens = min(burst, m.adm.tokens+now.Sub(m.adm.refilled).Seconds()*rate)
		}
		m.adm.refilled = now
		if m.adm.tokens < 1 {
			return acs.TooManyRequests("the server is at its limit of %g new calls per second", rate)
		}
		if take {
			m.adm.tokens--
		}
	}
	return nil
}
