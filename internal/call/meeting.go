package call

import (
	"context"
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
)

// A group call or room is a call apps reach by an id they choose rather
// than by a serverCallId: the first connect with a group call id or room id
// starts an empty conference under that id, later connects join it, and
// participants come in by addParticipant or moveParticipants. It lasts while
// an app is connected or two participants are talking, or until terminated.

// meetingKey names a group call or room in the Manager's index.
func meetingKey(req ConnectRequest) string {
	if req.RoomID != "" {
		return "room:" + req.RoomID
	}
	return "group:" + req.GroupCallID
}

// connectMeeting gives the app a connection on the group call or room,
// starting it if it is not running.
func (m *Manager) connectMeeting(ctx context.Context, req ConnectRequest) (acs.CallConnectionProperties, error) {
	key := meetingKey(req)
	c, created, err := m.meeting(key)
	if err != nil {
		return acs.CallConnectionProperties{}, err
	}
	var props acs.CallConnectionProperties
	err = c.do(ctx, func() error {
		if c.state != stateConnected {
			return acs.InvalidState("the group call %s is ending", key)
		}
		cn := &connection{id: newID(), callbackURI: req.CallbackURI, operationContext: req.OperationContext,
			apiVersion: req.APIVersion, state: acs.StateConnected}
		if c.conn == nil {
			c.conn = cn
		} else {
			c.others = append(c.others, cn)
		}
		c.m.addConn(cn.id, c)
		if created {
			c.subscriptionEvent(acs.EventCallStarted, acs.CallLifecycleData{
				ServerCallID: c.serverCallID, CorrelationID: c.correlationID,
				StartTime: c.answeredAt.UTC().Format(time.RFC3339Nano),
			})
		}
		c.participantsUpdated(cn, c.roster())
		c.emitFor(cn, cn.callbackURI, cn.operationContext, acs.EventCallConnected, &acs.ResultOK, nil)
		props = c.properties(cn)
		c.log.Info("an app connected to a group call", "meeting", key, "call_connection_id", cn.id, "started", created)
		return nil
	})
	return props, err
}

// meeting finds the running call of key, or starts it.
func (m *Manager) meeting(key string) (c *Call, created bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.meetings[key]; c != nil {
		return c, false, nil
	}
	if err := m.admitLocked(); err != nil {
		return nil, false, err
	}
	c = m.newCall("group", acs.Identifier{}, acs.Identifier{})
	c.meeting = key
	c.state = stateConnected
	c.answeredAt = c.startedAt
	m.meetings[key] = c
	m.calls[c.serverCallID] = c
	m.wg.Add(1)
	go c.run()
	return c, true, nil
}
