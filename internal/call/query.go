package call

import (
	"context"

	"github.com/switchboard-oss/switchboard/internal/acs"
)

// Properties returns an app's view of its call connection.
func (m *Manager) Properties(ctx context.Context, connID string) (acs.CallConnectionProperties, error) {
	c, err := m.byConnection(connID)
	if err != nil {
		m.mu.Lock()
		t, ok := m.ended[connID]
		m.mu.Unlock()
		if ok && t.props.CallConnectionID != "" {
			return t.props, nil // an ended connection still answers, as disconnected
		}
		return acs.CallConnectionProperties{}, err
	}
	var props acs.CallConnectionProperties
	err = c.do(ctx, func() error {
		props = c.properties()
		return nil
	})
	return props, err
}

// Participants lists the call's participants.
func (m *Manager) Participants(ctx context.Context, connID string) ([]acs.CallParticipant, error) {
	c, err := m.byConnection(connID)
	if err != nil {
		return nil, err
	}
	var out []acs.CallParticipant
	err = c.do(ctx, func() error {
		out = c.roster()
		return nil
	})
	return out, err
}

// Participant returns one participant by rawId.
func (m *Manager) Participant(ctx context.Context, connID, rawID string) (acs.CallParticipant, error) {
	parts, err := m.Participants(ctx, connID)
	if err != nil {
		return acs.CallParticipant{}, err
	}
	for _, p := range parts {
		if p.Identifier.RawID == rawID {
			return p, nil
		}
	}
	return acs.CallParticipant{}, acs.NotFound("participant %s is not in the call", rawID)
}

// Hangup ends the app's connection. A 1:1 call ends with it; forEveryone
// (terminate) ends the call for every participant.
func (m *Manager) Hangup(ctx context.Context, connID string, forEveryone bool) error {
	c, err := m.byConnection(connID)
	if err != nil {
		return err
	}
	return c.do(ctx, func() error {
		if c.state == stateEnded {
			return acs.NotFound("call connection %s has ended", connID)
		}
		if !forEveryone && c.state == stateConnected && len(c.live()) >= 2 {
			c.log.Info("app left the group call; it goes on")
			c.leave()
			return nil
		}
		c.log.Info("app ended the call", "for_everyone", forEveryone)
		c.end(endAPI)
		return nil
	})
}
