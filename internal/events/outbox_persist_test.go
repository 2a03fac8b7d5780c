package events

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// Tests of the write-behind journal: what reaches the outbox table, when,
// and what a restart finds there.

// countStatements installs triggers that count the INSERTs and DELETEs on
// the outbox table, and returns a function reading the counts.
func countStatements(t *testing.T, db *sql.DB) func() (inserts, deletes int) {
	t.Helper()
	for _, q := range []string{
		`CREATE TABLE outbox_writes (inserts INTEGER NOT NULL, deletes INTEGER NOT NULL)`,
		`INSERT INTO outbox_writes VALUES (0, 0)`,
		`CREATE TRIGGER outbox_count_ins AFTER INSERT ON outbox BEGIN UPDATE outbox_writes SET inserts = inserts + 1; END`,
		`CREATE TRIGGER outbox_count_del AFTER DELETE ON outbox BEGIN UPDATE outbox_writes SET deletes = deletes + 1; END`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return func() (int, int) {
		var i, d int
		if err := db.QueryRow(`SELECT inserts, deletes FROM outbox_writes`).Scan(&i, &d); err != nil {
			t.Fatal(err)
		}
		return i, d
	}
}

// crash stops o as a killed process would: its database goes away first,
// so Run's final write fails and the table keeps what the journal had
// written so far.
func crash(t *testing.T, db *sql.DB, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	db.Close()
	cancel()
	<-done // an error if there was something left to write
}

// runUntil starts o.Run without start's check that it returns nil.
func runUntil(o *Outbox) (context.CancelFunc, <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	return cancel, done
}

func TestOutboxFastDeliveriesSkipTable(t *testing.T) {
	rc := newReceiver(t, nil)
	db := openDB(t, dbPath(t))
	writes := countStatements(t, db)
	opt := fastOptions()
	opt.PersistAfter = 10 * time.Second // far longer than any delivery here, even under -race
	o := newTestOutbox(t, db, opt)
	stop := start(t, o.Run)
	keys := []string{"a", "b", "c", "d"}
	for n := range 50 {
		for _, k := range keys {
			enqueueAll(t, o, testDelivery(t, rc.URL(), k, n))
		}
	}
	waitIdle(t, o)
	stop() // a clean stop writes what is undelivered: nothing
	wantInOrder(t, sequences(rc.Accepted()), keys, 50)
	if ins, del := writes(); ins != 0 || del != 0 {
		t.Errorf("%d inserts and %d deletes on the outbox table, want none", ins, del)
	}
	if st := o.Stats(); st.Persisted != 0 || st.Delivered != 200 || st.Enqueued != 200 {
		t.Errorf("stats %+v", st)
	}
}

func TestOutboxPersistsUndeliveredAndSurvivesCrash(t *testing.T) {
	path := dbPath(t)
	addr := closedAddr(t)
	url := "http://" + addr + "/cb"
	opt := fastOptions()
	opt.PersistAfter = 20 * time.Millisecond

	db1 := openDB(t, path)
	o1 := newTestOutbox(t, db1, opt)
	cancel, done := runUntil(o1)
	for n := range 3 {
		enqueueAll(t, o1, testDelivery(t, url, "call-1", n))
	}
	// Written by the journal while Run runs, with the failed attempts.
	eventually(t, "the undelivered events in the table", func() bool { return countRows(t, db1, "outbox") == 3 })
	eventually(t, "failed attempts recorded", func() bool {
		var attempts int
		var lastErr string
		err := db1.QueryRow(`SELECT attempts, last_error FROM outbox ORDER BY seq LIMIT 1`).Scan(&attempts, &lastErr)
		return err == nil && attempts > 0 && lastErr != ""
	})
	crash(t, db1, cancel, done)

	db2 := openDB(t, path)
	o2 := newTestOutbox(t, db2, opt)
	if p := o2.Pending(); p != 1 {
		t.Errorf("Pending() = %d after load, want 1", p)
	}
	for n := 3; n < 6; n++ {
		enqueueAll(t, o2, testDelivery(t, url, "call-1", n))
	}
	rc := newReceiverOn(t, listenOn(t, addr), nil)
	start(t, o2.Run)
	waitIdle(t, o2)
	wantInOrder(t, sequences(rc.Accepted()), []string{"call-1"}, 6)
	if n := tableRows(t, o2, db2); n != 0 {
		t.Errorf("%d rows left", n)
	}
}

func TestOutboxCleanStopPersistsEverything(t *testing.T) {
	path := dbPath(t)
	addr := closedAddr(t)
	url := "http://" + addr + "/cb"
	opt := fastOptions()
	opt.PersistAfter = time.Hour // nothing is due while Run runs
	keys := []string{"call-1", "call-2"}

	db1 := openDB(t, path)
	o1 := newTestOutbox(t, db1, opt)
	stop1 := start(t, o1.Run)
	for n := range 3 {
		for _, k := range keys {
			enqueueAll(t, o1, testDelivery(t, url, k, n))
		}
	}
	eventually(t, "failed attempts", func() bool { return o1.Stats().Retries >= 2 })
	if n := tableRows(t, o1, db1); n != 0 {
		t.Fatalf("%d rows written before PersistAfter", n)
	}
	stop1()
	if n := countRows(t, db1, "outbox"); n != 6 {
		t.Fatalf("%d rows after a clean stop, want 6", n)
	}
	var attempts int
	if err := db1.QueryRow(`SELECT MAX(attempts) FROM outbox`).Scan(&attempts); err != nil || attempts == 0 {
		t.Errorf("attempts not saved: %d, %v", attempts, err)
	}
	db1.Close()

	db2 := openDB(t, path)
	o2 := newTestOutbox(t, db2, opt)
	rc := newReceiverOn(t, listenOn(t, addr), nil)
	start(t, o2.Run)
	waitIdle(t, o2)
	wantInOrder(t, sequences(rc.Accepted()), keys, 3)
}

// Some rows of a key are in the table, later ones only in memory; after a
// clean restart (or a crash, which loses only the later ones) the key's
// order holds, also with rows enqueued after the restart.
func TestOutboxOrderAcrossTableAndMemory(t *testing.T) {
	for _, tc := range []struct {
		name    string
		crash   bool
		survive []int // of 0..9 enqueued before the restart
	}{
		{"clean stop", false, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"crash", true, []int{0, 1, 2, 3, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := dbPath(t)
			addr := closedAddr(t)
			url := "http://" + addr + "/cb"
			opt := fastOptions()
			opt.PersistAfter = time.Hour
			db1 := openDB(t, path)
			o1 := newTestOutbox(t, db1, opt)
			cancel, done := runUntil(o1)
			for n := range 5 {
				enqueueAll(t, o1, testDelivery(t, url, "k", n), testDelivery(t, url, "other", n))
			}
			// Write those now, as if PersistAfter had passed for them.
			if err := o1.flush(context.Background(), time.Now().Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			for n := 5; n < 10; n++ {
				enqueueAll(t, o1, testDelivery(t, url, "k", n))
			}
			if tc.crash {
				crash(t, db1, cancel, done)
			} else {
				cancel()
				if err := <-done; err != nil {
					t.Fatal(err)
				}
				db1.Close()
			}

			db2 := openDB(t, path)
			o2 := newTestOutbox(t, db2, opt)
			for n := 10; n < 13; n++ {
				enqueueAll(t, o2, testDelivery(t, url, "k", n))
			}
			rc := newReceiverOn(t, listenOn(t, addr), nil)
			start(t, o2.Run)
			waitIdle(t, o2)
			got := sequences(rc.Accepted())
			want := append(slices.Clone(tc.survive), 10, 11, 12)
			if !slices.Equal(got["k"], want) {
				t.Errorf("key k: got %v, want %v", got["k"], want)
			}
			wantInOrder(t, got, []string{"other"}, 5)
		})
	}
}

func TestOutboxExpireTableAndMemory(t *testing.T) {
	rc := newReceiver(t, nil)
	db := openDB(t, dbPath(t))
	writes := countStatements(t, db)
	opt := fastOptions()
	opt.PersistAfter = time.Hour
	o := newTestOutbox(t, db, opt)
	tagged := func(key string, n int) Delivery {
		d := testDelivery(t, rc.URL(), key, n)
		d.Tag = "ringing"
		return d
	}
	// Before Run: a0, b0 (tagged) and a1 go to the table, then a2 and c0
	// (tagged) stay in memory.
	enqueueAll(t, o, tagged("a", 0), tagged("b", 0), testDelivery(t, rc.URL(), "a", 1))
	if err := o.flush(context.Background(), time.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	enqueueAll(t, o, tagged("a", 2), tagged("c", 0))
	if n := o.Expire("ringing"); n != 4 {
		t.Errorf("Expire removed %d, want 4", n)
	}
	if n := tableRows(t, o, db); n != 1 {
		t.Errorf("%d rows in the table after Expire, want 1 (a1)", n)
	}
	start(t, o.Run)
	waitIdle(t, o)
	got := sequences(rc.Accepted())
	if len(got) != 1 || !slices.Equal(got["a"], []int{1}) {
		t.Errorf("delivered %v, want only a1", got)
	}
	if n := tableRows(t, o, db); n != 0 {
		t.Errorf("%d rows left", n)
	}
	if ins, del := writes(); ins != 3 || del != 3 {
		t.Errorf("%d inserts, %d deletes; want 3 and 3 (a2 and c0 never written)", ins, del)
	}
	if st := o.Stats(); st.Expired != 4 {
		t.Errorf("stats %+v", st)
	}
}

func TestOutboxFull(t *testing.T) {
	rc := newReceiver(t, nil)
	db := openDB(t, dbPath(t))
	opt := fastOptions()
	opt.MaxPending = 3
	o := newTestOutbox(t, db, opt)
	ctx := context.Background()
	enqueueAll(t, o, testDelivery(t, rc.URL(), "k", 0), testDelivery(t, rc.URL(), "k", 1))
	// A batch goes in whole or not at all.
	if err := o.EnqueueBatch(ctx, []Delivery{testDelivery(t, rc.URL(), "x", 0), testDelivery(t, rc.URL(), "x", 1)}); !errors.Is(err, ErrOutboxFull) {
		t.Fatalf("batch over the limit: %v, want ErrOutboxFull", err)
	}
	enqueueAll(t, o, testDelivery(t, rc.URL(), "k", 2))
	if err := o.Enqueue(ctx, testDelivery(t, rc.URL(), "k", 3)); !errors.Is(err, ErrOutboxFull) {
		t.Fatalf("Enqueue when full: %v, want ErrOutboxFull", err)
	}
	if st := o.Stats(); st.Refused != 3 || st.Enqueued != 3 {
		t.Errorf("stats %+v", st)
	}
	start(t, o.Run)
	waitIdle(t, o)
	// Room again once delivered.
	enqueueAll(t, o, testDelivery(t, rc.URL(), "k", 3))
	waitIdle(t, o)
	wantInOrder(t, sequences(rc.Accepted()), []string{"k"}, 4)
	if _, ok := sequences(rc.Accepted())["x"]; ok {
		t.Error("part of a refused batch was delivered")
	}
}

// A batch the database refuses is kept and written by a later batch.
func TestOutboxJournalRetriesFailedBatch(t *testing.T) {
	var up atomic.Bool
	rc := newReceiver(t, func(r received, attempt int) int {
		if !up.Load() {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	db := openDB(t, dbPath(t))
	db.SetMaxOpenConns(1) // the rename below must be seen by the journal's connection
	opt := fastOptions()
	opt.PersistAfter = -1 // every row in the next batch
	o := newTestOutbox(t, db, opt)
	if _, err := db.Exec(`ALTER TABLE outbox RENAME TO outbox_away`); err != nil {
		t.Fatal(err)
	}
	start(t, o.Run)
	enqueueAll(t, o, testDelivery(t, rc.URL(), "k", 0), testDelivery(t, rc.URL(), "k", 1))
	eventually(t, "a failed batch", func() bool { return o.Stats().StoreErrs > 0 })
	if _, err := db.Exec(`ALTER TABLE outbox_away RENAME TO outbox`); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the rows written", func() bool { return countRows(t, db, "outbox") == 2 })
	up.Store(true)
	waitIdle(t, o)
	wantInOrder(t, sequences(rc.Accepted()), []string{"k"}, 2)
	if n := tableRows(t, o, db); n != 0 {
		t.Errorf("%d rows left", n)
	}
}

// With a long PersistAfter, deliveries that are done before they are due do
// not pile up in the journal's queue until then.
func TestOutboxJournalLetsGoOfDoneRows(t *testing.T) {
	db := openDB(t, dbPath(t))
	opt := fastOptions()
	opt.PersistAfter = time.Hour
	o := newTestOutbox(t, db, opt)
	ds := make([]Delivery, 5000)
	for i := range ds {
		ds[i] = Delivery{URL: "http://127.0.0.1:1/cb", OrderKey: "k", Body: []byte(`[{}]`), Tag: "t"}
	}
	if err := o.EnqueueBatch(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	if n := o.Expire("t"); n != len(ds) {
		t.Fatalf("Expire removed %d", n)
	}
	if err := o.flush(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	o.mu.Lock()
	n := o.j.fresh.len()
	o.mu.Unlock()
	if n != 0 {
		t.Errorf("journal still holds %d done rows", n)
	}
	if n := countRows(t, db, "outbox"); n != 0 {
		t.Errorf("%d rows written", n)
	}
}
