package server

import (
	"context"
	"time"

	"github.com/switchboard-oss/switchboard/internal/acs"
	"github.com/switchboard-oss/switchboard/internal/events"
)

// sink is the call core's EventSink: callback events go through the outbox
// ordered per call connection, subscription events through Subscriptions.
type sink struct {
	outbox   *events.Outbox
	subs     *events.Subscriptions
	audience string
}

func (s sink) Callback(ctx context.Context, url, callConnectionID, eventType string, data any) error {
	id, body, err := events.CloudEvent(eventType, callConnectionID, data)
	if err != nil {
		return err
	}
	return s.outbox.Enqueue(ctx, events.Delivery{
		URL: url, OrderKey: "conn:" + callConnectionID, Body: body, Kind: events.KindCloudEvent,
		EventID: id, EventType: acs.EventTypePrefix + eventType,
	})
}

func (s sink) Subscription(ctx context.Context, eventType, subject string, to acs.Identifier, orderKey string, data any, tag string, expires time.Time) error {
	_, err := s.subs.Publish(ctx, events.Event{
		Type: eventType, Subject: subject, ToRawID: to.RawID, Data: data, OrderKey: orderKey, Tag: tag, ExpiresAt: expires,
	})
	return err
}

func (s sink) Expire(tag string) { s.outbox.Expire(tag) }

func (s sink) Automated(to acs.Identifier) bool {
	return s.subs.Names(acs.EventIncomingCall, to.RawID)
}
