// Package store keeps Switchboard's durable state in an embedded SQLite
// database in the data directory: communication users and their SIP
// credentials, owned phone numbers, and call records. Other packages (the
// event outbox and subscriptions) keep their own tables in the same database
// through DB().
package store
