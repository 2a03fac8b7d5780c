// Package events turns call events into the bytes ACS applications expect and
// gets those bytes to them.
//
// It has four parts:
//
//   - Rendering (render.go): CloudEvent renders a mid-call callback event
//     (CloudEvents 1.0, a JSON array of one event, WIRE.md §6.1) and
//     EventGridEvent renders an Event Grid schema event (WIRE.md §7). An event
//     is rendered once; the same bytes are stored and sent to every receiver.
//
//   - Outbox (outbox*.go): an at-least-once delivery queue, held in memory
//     and written behind to SQLite (see Durability). Deliveries that share
//     an OrderKey are sent strictly in enqueue order, one at a time;
//     different keys go out in parallel on a fixed pool of MaxInFlight
//     workers, so neither an event nor an idle key owns a goroutine.
//     Connection failures, 408, 429 and 5xx are retried with exponential
//     backoff while the key waits; other statuses are final. A receiver that
//     reads the whole request but never answers is given ResponseTimeout and
//     then counted as delivered, so it cannot stall a call's later events.
//     At most MaxPending undelivered deliveries are held; beyond that
//     Enqueue fails with ErrOutboxFull.
//
//   - Signer (signer*.go): an RS256 key (PEM on disk, created on first use),
//     short-lived bearer JWTs for every delivery (WIRE.md §8), and the JWKS and
//     OpenID configuration documents apps use to verify them. The API layer
//     mounts JWKSHandler at JWKSPath and OpenIDConfigurationHandler at
//     OpenIDConfigurationPath (or serves JWKS()/OpenIDConfiguration() itself).
//
//   - Subscriptions (subscriptions*.go): Event Grid style webhook
//     subscriptions (IncomingCall and the call lifecycle events) stored in
//     SQLite, with the Event Grid validation handshake (WIRE.md §7.2): a
//     subscription receives nothing until its endpoint echoes the validation
//     code or the validation URL is called (ConfirmByURL).
//
// # Durability
//
// The Outbox's in-memory queues are the source of truth while the process
// runs; the outbox table is a write-behind copy, kept by one journal
// goroutine in batches (one transaction every 50 ms, or sooner when many
// changes are queued). Enqueue never touches the database, nor does a
// delivery that succeeds quickly:
//
//   - a delivery still undelivered PersistAfter (default 200 ms) after
//     Enqueue is inserted by the next batch; one delivered or dropped before
//     that is never written;
//   - a written delivery, once delivered or dropped (Expire included), is
//     deleted by the next batch; a failed attempt on it updates its attempt
//     count and last error the same way;
//   - when Run returns after its context was canceled (a clean stop), every
//     undelivered delivery has been written; NewOutbox loads them again, in
//     order, and the next Run delivers them.
//
// So a crash (the process killed, a panic, power lost) rather than a clean
// stop loses the deliveries enqueued in the last PersistAfter + 50 ms that
// had not been delivered yet, and may re-send (at least once) those
// delivered in the last 50 ms whose rows were written. Order per key holds
// across a restart: a key's rows are written in enqueue order, so what
// survives is the key's oldest undelivered deliveries, and new ones queue
// behind them. This is the group-commit trade that makes an event cost no
// database work on the caller's goroutine and none at all when the receiver
// is up. A negative PersistAfter writes every delivery in the next batch
// (delivered or not by then): a crash then loses at most the last 50 ms.
//
// # Database
//
// Migrate creates the tables (outbox, event_subscriptions). The *sql.DB is
// shared with the rest of the server; open it with a busy timeout (modernc
// sqlite: "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)") because
// other goroutines write it too. An in-memory database (":memory:") needs
// db.SetMaxOpenConns(1), since every connection would otherwise see its own
// empty database. This package never holds a connection while asking for
// another, so a pool of one connection is safe; the Outbox uses one
// connection at a time (its journal), so it needs no larger pool.
//
// # Locks
//
// See LOCKS.md. In short: Outbox.mu, Subscriptions.mu and Signer.mu are leaf
// locks never held during I/O; Subscriptions.writeMu serialises subscription
// changes (database write + cache update) and Outbox.jmu the outbox journal's
// batches; those two are held during I/O and take other locks.
//
// # Shutdown
//
// Run returns when its context is done, abandoning requests in flight (they
// are sent again later: at least once) and writing every undelivered
// delivery to the database first. To deliver what is queued first, call
// Outbox.WaitIdle with a deadline, then cancel Run. A delivery enqueued
// after Run returned stays in memory until the next Run.
package events
