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
		t, ok := m.ended.get(connID)
		m.mu.Unlock()
		if ok && t.props.CallConnectionID != "" {
			return t.props, nil // an ended connection still answers, as disconnected
		}
		return acs.CallConnectionProperties{}, err
	}
	var props acs.CallConnectionProperties
	err = c.do(ctx, func() error {
		cn := c.connection(connID)
		if cn == nil {
			return acs.NotFound("call connection %s was not found", connID)
		}
		props = c.properties(cn)
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
		cn := c.connection(connID)
		if cn == nil || cn.state == acs.StateDisconnected {
			return acs.NotFound("call connection %s has left the call", connID)
		}
		if p := c.botOf(cn); p != nil && !forEveryone {
			c.log.Info("an app answering for a participant left the call", "participant", p.id.RawID)
			c.dropParticipant(p, true) // its connection leaves with it
			c.afterLeave()
			return nil
		}
		if !forEveryone && c.state == stateConnected && (len(c.live()) >= 2 || len(c.liveConns()) >= 2) {
			c.log.Info("an app left the call; it goes on", "call_connection_id", connID)
			c.leave(cn)
			return nil
		}
		c.log.Info("app ended the call", "for_everyone", forEveryone)
		c.end(endAPI)
		return nil
	})
}

// ConnectRequest is an app joining a call that is already running.
type ConnectRequest struct {
	ServerCallID     string // or one of:
	GroupCallID      string
	RoomID           string
	CallbackURI      string
	OperationContext string
	APIVersion       string
}

// Connect gives an app a connection of its own on a running call, found by
// its serverCallId. The app gets CallConnected and ParticipantsUpdated, and
// from then on the call's roster changes and its end.
func (m *Manager) Connect(ctx context.Context, req ConnectRequest) (acs.CallConnectionProperties, error) {
	if req.ServerCallID == "" {
		return m.connectMeeting(ctx, req)
	}
	m.mu.Lock()
	c, ok := m.calls[req.ServerCallID]
	_, ended := m.ended.get(req.ServerCallID)
	m.mu.Unlock()
	if !ok {
		if ended {
			return acs.CallConnectionProperties{}, acs.InvalidState("the call %s has ended", req.ServerCallID)
		}
		return acs.CallConnectionProperties{}, acs.NotFound("no call has serverCallId %s", req.ServerCallID)
	}
	var props acs.CallConnectionProperties
	err := c.do(ctx, func() error {
		if c.state != stateConnected {
			return acs.Errorf(400, "BadRequest", 8501, "the call is not established (%s)", c.stateText())
		}
		cn := &connection{id: newID(), callbackURI: req.CallbackURI, operationContext: req.OperationContext, apiVersion: req.APIVersion,
			state: acs.StateConnected, source: c.from, targets: []acs.Identifier{c.to}}
		c.others = append(c.others, cn)
		c.m.addConn(cn.id, c)
		c.participantsUpdated(cn, c.roster())
		c.emitFor(cn, cn.callbackURI, cn.operationContext, acs.EventCallConnected, &acs.ResultOK, nil)
		props = c.properties(cn)
		c.log.Info("an app connected to the call", "call_connection_id", cn.id)
		return nil
	})
	return props, err
}
