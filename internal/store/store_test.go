package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestUsersNumbersRecords(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir, "res1")
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, "alice", "Alice")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != "8:acs:res1_alice" || len(u.Password) < 20 {
		t.Fatalf("user = %+v", u)
	}
	if _, err := s.CreateUser(ctx, "alice", ""); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate user: %v", err)
	}
	if _, err := s.CreateUser(ctx, "bad name", ""); err == nil {
		t.Fatal("bad username accepted")
	}
	pw, ok, err := s.Password(ctx, "alice")
	if err != nil || !ok || pw != u.Password {
		t.Fatalf("password = %q %v %v", pw, ok, err)
	}
	if _, ok, _ := s.Password(ctx, "bob"); ok {
		t.Fatal("unknown user has a password")
	}
	if name, ok := s.UsernameOf("8:acs:res1_alice"); !ok || name != "alice" {
		t.Fatalf("UsernameOf = %q %v", name, ok)
	}
	if _, ok := s.UsernameOf("8:acs:other_alice"); ok {
		t.Fatal("foreign resource accepted")
	}
	if _, err := s.AddNumber(ctx, PhoneNumber{Number: "+14255550100"}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.HasNumber(ctx, "+14255550100"); !ok {
		t.Fatal("number not found")
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	rec := CallRecord{ServerCallID: "sc1", CorrelationID: "c1", Direction: "inbound", From: "4:+1", To: "4:+2",
		StartedAt: now, AnsweredAt: &now, EndedAt: now.Add(3 * time.Second), DurationMs: 3000, EndReason: "remote-bye"}
	if err := s.SaveCallRecord(ctx, rec); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Everything survives reopening.
	s, err = Open(ctx, dir, "res1")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	users, _ := s.Users(ctx)
	if len(users) != 1 || users[0].Password != "" {
		t.Fatalf("users = %+v", users)
	}
	recs, err := s.CallRecords(ctx, time.Time{}, 10)
	if err != nil || len(recs) != 1 || recs[0].DurationMs != 3000 || recs[0].AnsweredAt == nil || !recs[0].EndedAt.Equal(rec.EndedAt) {
		t.Fatalf("records = %+v %v", recs, err)
	}
}
