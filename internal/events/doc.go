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
//   - Outbox (outbox*.go): a durable, at-least-once queue in SQLite. Deliveries
//     that share an OrderKey are sent strictly in enqueue order, one at a time;
//     different keys go out in parallel on a fixed pool of MaxInFlight workers,
//     so neither an event nor an idle key owns a goroutine. Connection
//     failures, 408, 429 and 5xx are retried with exponential backoff while
//     the key waits; other statuses are final. A receiver that reads the whole
//     request but never answers is given ResponseTimeout and then counted as
//     delivered, so it cannot stall a call's later events.
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
// # Database
//
// Migrate creates the tables (outbox, event_subscriptions). The *sql.DB is
// shared with the rest of the server; open it with a busy timeout (modernc
// sqlite: "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)") because
// deliveries are inserted and deleted from several goroutines. An in-memory
// database (":memory:") needs db.SetMaxOpenConns(1), since every connection
// would otherwise see its own empty database. This package never holds a
// connection while asking for another, so a pool of one connection is safe.
//
// # Locks
//
// See LOCKS.md. In short: Outbox.mu, Subscriptions.mu and Signer.mu are leaf
// locks never held during I/O; Subscriptions.writeMu serialises subscription
// changes (database write + cache update) and is the only lock held while
// taking another.
//
// # Shutdown
//
// Run returns when its context is done, abandoning requests in flight (their
// rows stay and are sent again later: at least once). To flush first, call
// Outbox.WaitIdle with a deadline, then cancel Run.
package events
