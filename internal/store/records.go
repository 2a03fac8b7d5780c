package store

import (
	"context"
	"database/sql"
	"time"
)

// CallRecord is the durable record of one call: who, when, how long, how it ended.
type CallRecord struct {
	ServerCallID  string     `json:"serverCallId"`
	CorrelationID string     `json:"correlationId"`
	Direction     string     `json:"direction"` // inbound or outbound
	From          string     `json:"from"`      // rawId
	To            string     `json:"to"`        // rawId
	SIPCallID     string     `json:"sipCallId,omitempty"`
	StartedAt     time.Time  `json:"startedAt"`
	AnsweredAt    *time.Time `json:"answeredAt,omitempty"`
	EndedAt       time.Time  `json:"endedAt"`
	DurationMs    int64      `json:"durationMs"` // from answer to end; 0 if never answered
	EndReason     string     `json:"endReason"`  // e.g. hangup-api, remote-bye, rejected, canceled, ring-timeout
	SIPStatus     int        `json:"sipStatus,omitempty"`
	ResultSubCode int        `json:"resultSubCode,omitempty"`
	// RTP packets received from and sent to the participants, summed.
	RTPPacketsIn  uint64 `json:"rtpPacketsIn"`
	RTPPacketsOut uint64 `json:"rtpPacketsOut"`
	// RTPMalformed counts datagrams on the call's media ports that were not
	// valid RTP for the session.
	RTPMalformed uint64 `json:"rtpMalformed"`
}

// SaveCallRecord stores (or replaces) a call record.
func (s *Store) SaveCallRecord(ctx context.Context, r CallRecord) error {
	return s.SaveCallRecords(ctx, []CallRecord{r})
}

// SaveCallRecords stores (or replaces) records in one transaction.
func (s *Store) SaveCallRecords(ctx context.Context, recs []CallRecord) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	stmt, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO call_records(server_call_id, correlation_id, direction, from_id, to_id, sip_call_id,
		started_at, answered_at, ended_at, duration_ms, end_reason, sip_status, result_subcode, rtp_in, rtp_out, rtp_malformed)
		VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range recs {
		var answered sql.NullInt64
		if r.AnsweredAt != nil {
			answered = sql.NullInt64{Int64: r.AnsweredAt.UnixMilli(), Valid: true}
		}
		if _, err = stmt.ExecContext(ctx, r.ServerCallID, r.CorrelationID, r.Direction, r.From, r.To, r.SIPCallID,
			r.StartedAt.UnixMilli(), answered, r.EndedAt.UnixMilli(), r.DurationMs, r.EndReason, r.SIPStatus, r.ResultSubCode,
			int64(r.RTPPacketsIn), int64(r.RTPPacketsOut), int64(r.RTPMalformed)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// CallRecords returns up to limit records, newest first, started before the
// given time (zero: now).
func (s *Store) CallRecords(ctx context.Context, before time.Time, limit int) ([]CallRecord, error) {
	if before.IsZero() {
		before = time.Now().Add(time.Hour)
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT server_call_id, correlation_id, direction, from_id, to_id, sip_call_id, started_at, answered_at,
		ended_at, duration_ms, end_reason, sip_status, result_subcode, rtp_in, rtp_out, rtp_malformed FROM call_records WHERE started_at < ? ORDER BY started_at DESC LIMIT ?`,
		before.UnixMilli(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []CallRecord{}
	for rows.Next() {
		var r CallRecord
		var started, ended int64
		var answered sql.NullInt64
		var rin, rout, rbad int64
		if err := rows.Scan(&r.ServerCallID, &r.CorrelationID, &r.Direction, &r.From, &r.To, &r.SIPCallID, &started, &answered,
			&ended, &r.DurationMs, &r.EndReason, &r.SIPStatus, &r.ResultSubCode, &rin, &rout, &rbad); err != nil {
			return nil, err
		}
		r.RTPPacketsIn, r.RTPPacketsOut, r.RTPMalformed = uint64(rin), uint64(rout), uint64(rbad)
		r.StartedAt = time.UnixMilli(started).UTC()
		r.EndedAt = time.UnixMilli(ended).UTC()
		if answered.Valid {
			t := time.UnixMilli(answered.Int64).UTC()
			r.AnsweredAt = &t
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
