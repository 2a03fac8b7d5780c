package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// ErrNotFound is returned when a user, number or record does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned when creating something that already exists.
var ErrExists = errors.New("already exists")

// Store is the SQLite-backed state of one server.
type Store struct {
	db         *sql.DB
	resourceID string
}

// Open opens (creating if needed) dataDir/switchboard.db and migrates it.
// resourceID is the <resource> part of communication user ids.
func Open(ctx context.Context, dataDir, resourceID string) (*Store, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dataDir, "switchboard.db")
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// SQLite has one writer; a small pool avoids lock contention.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4) // keep them: re-opening a connection costs more than a query
	s := &Store{db: db, resourceID: resourceID}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	return s, nil
}

// DB returns the database for packages that keep their own tables.
func (s *Store) DB() *sql.DB { return s.db }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) migrate(ctx context.Context) error {
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS users (
			username TEXT PRIMARY KEY,
			raw_id TEXT NOT NULL UNIQUE,
			password TEXT NOT NULL,
			display_name TEXT NOT NULL DEFAULT '',
			created_at INTEGER NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS phone_numbers (
			number TEXT PRIMARY KEY,
			trunk TEXT NOT NULL DEFAULT '',
			created_at INTEGER NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS call_records (
			server_call_id TEXT PRIMARY KEY,
			correlation_id TEXT NOT NULL,
			direction TEXT NOT NULL,
			from_id TEXT NOT NULL,
			to_id TEXT NOT NULL,
			sip_call_id TEXT NOT NULL DEFAULT '',
			started_at INTEGER NOT NULL,
			answered_at INTEGER,
			ended_at INTEGER NOT NULL,
			duration_ms INTEGER NOT NULL,
			end_reason TEXT NOT NULL,
			sip_status INTEGER NOT NULL DEFAULT 0,
			result_subcode INTEGER NOT NULL DEFAULT 0,
			rtp_in INTEGER NOT NULL DEFAULT 0,
			rtp_out INTEGER NOT NULL DEFAULT 0,
			rtp_malformed INTEGER NOT NULL DEFAULT 0)`,
		`CREATE INDEX IF NOT EXISTS call_records_started ON call_records(started_at)`,
	}
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// User is a communication user that registers over SIP.
type User struct {
	ID          string    `json:"id"`       // 8:acs:<resource>_<username>
	Username    string    `json:"username"` // SIP user name
	Password    string    `json:"password,omitempty"`
	DisplayName string    `json:"displayName,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
}

// UserID returns the communication user id of a SIP user name.
func (s *Store) UserID(username string) string {
	return "8:acs:" + s.resourceID + "_" + username
}

// UsernameOf returns the SIP user name of a communication user id of this
// resource, or ok=false.
func (s *Store) UsernameOf(rawID string) (string, bool) {
	name, ok := strings.CutPrefix(rawID, "8:acs:"+s.resourceID+"_")
	return name, ok && name != ""
}

// CreateUser creates a user with a random id and password. A non-empty
// username is used as given (letters, digits, '-', '.', '_' less than 64).
func (s *Store) CreateUser(ctx context.Context, username, displayName string) (User, error) {
	if username == "" {
		username = uuid.NewString()
	}
	if !validUsername(username) {
		return User{}, fmt.Errorf("username %q: use 1-64 letters, digits, '-' or '.'", username)
	}
	u := User{ID: s.UserID(username), Username: username, Password: randomSecret(18), DisplayName: displayName, CreatedAt: time.Now().UTC().Truncate(time.Second)}
	_, err := s.db.ExecContext(ctx, `INSERT INTO users(username, raw_id, password, display_name, created_at) VALUES(?,?,?,?,?)`,
		u.Username, u.ID, u.Password, u.DisplayName, u.CreatedAt.Unix())
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return User{}, ErrExists
		}
		return User{}, err
	}
	return u, nil
}

func validUsername(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// User returns the user with the given SIP user name.
func (s *Store) User(ctx context.Context, username string) (User, error) {
	row := s.db.QueryRowContext(ctx, `SELECT username, raw_id, password, display_name, created_at FROM users WHERE username = ?`, username)
	var u User
	var created int64
	if err := row.Scan(&u.Username, &u.ID, &u.Password, &u.DisplayName, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return User{}, ErrNotFound
		}
		return User{}, err
	}
	u.CreatedAt = time.Unix(created, 0).UTC()
	return u, nil
}

// Users lists users without their passwords.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT username, raw_id, display_name, created_at FROM users ORDER BY created_at, username`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		var u User
		var created int64
		if err := rows.Scan(&u.Username, &u.ID, &u.DisplayName, &created); err != nil {
			return nil, err
		}
		u.CreatedAt = time.Unix(created, 0).UTC()
		out = append(out, u)
	}
	return out, rows.Err()
}

// DeleteUser removes a user.
func (s *Store) DeleteUser(ctx context.Context, username string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM users WHERE username = ?`, username)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Password implements the registrar's credential lookup.
func (s *Store) Password(ctx context.Context, username string) (string, bool, error) {
	u, err := s.User(ctx, username)
	if errors.Is(err, ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return u.Password, true, nil
}

// PhoneNumber is a number the server owns, added through the admin API.
type PhoneNumber struct {
	Number    string    `json:"number"`
	Trunk     string    `json:"trunk,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// AddNumber records an owned number.
func (s *Store) AddNumber(ctx context.Context, n PhoneNumber) (PhoneNumber, error) {
	n.CreatedAt = time.Now().UTC().Truncate(time.Second)
	_, err := s.db.ExecContext(ctx, `INSERT INTO phone_numbers(number, trunk, created_at) VALUES(?,?,?)`, n.Number, n.Trunk, n.CreatedAt.Unix())
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return n, ErrExists
	}
	return n, err
}

// Numbers lists numbers added through the admin API.
func (s *Store) Numbers(ctx context.Context) ([]PhoneNumber, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT number, trunk, created_at FROM phone_numbers ORDER BY number`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []PhoneNumber{}
	for rows.Next() {
		var n PhoneNumber
		var created int64
		if err := rows.Scan(&n.Number, &n.Trunk, &created); err != nil {
			return nil, err
		}
		n.CreatedAt = time.Unix(created, 0).UTC()
		out = append(out, n)
	}
	return out, rows.Err()
}

// HasNumber reports whether number was added through the admin API.
func (s *Store) HasNumber(ctx context.Context, number string) (PhoneNumber, bool, error) {
	var n PhoneNumber
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT number, trunk, created_at FROM phone_numbers WHERE number = ?`, number).Scan(&n.Number, &n.Trunk, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return n, false, nil
	}
	n.CreatedAt = time.Unix(created, 0).UTC()
	return n, err == nil, err
}

// DeleteNumber removes an owned number.
func (s *Store) DeleteNumber(ctx context.Context, number string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM phone_numbers WHERE number = ?`, number)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

func randomSecret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
