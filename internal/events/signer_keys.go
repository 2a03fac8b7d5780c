package events

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// signingKeyBits is the size of a generated key.
const signingKeyBits = 2048

// LoadOrCreateSigner loads the PEM RSA private key at keyPath (PKCS #1
// "RSA PRIVATE KEY" or PKCS #8 "PRIVATE KEY") or, when the file does not
// exist, generates a 2048-bit key and writes it there (PKCS #1, mode 0600,
// parent directories 0700). An empty keyPath gives an ephemeral key that is
// never written: tokens then stop verifying after a restart, so use it only
// in tests and development. A file that exists but cannot be parsed is an
// error; it is never overwritten.
func LoadOrCreateSigner(keyPath, issuer string, log *slog.Logger, opts ...SignerOption) (*Signer, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if keyPath == "" {
		key, err := rsa.GenerateKey(rand.Reader, signingKeyBits)
		if err != nil {
			return nil, fmt.Errorf("events: generate signing key: %w", err)
		}
		log.Warn("using an ephemeral callback signing key; tokens will not verify after a restart")
		return NewSigner(key, issuer, log, opts...)
	}
	data, err := os.ReadFile(keyPath)
	switch {
	case err == nil:
		key, err := parseRSAKeyPEM(data)
		if err != nil {
			return nil, fmt.Errorf("events: signing key %s: %w", keyPath, err)
		}
		if fi, err := os.Stat(keyPath); err == nil && fi.Mode().Perm()&0o077 != 0 {
			log.Warn("signing key file is readable by other users", "path", keyPath, "mode", fi.Mode().Perm().String())
		}
		return NewSigner(key, issuer, log, opts...)
	case errors.Is(err, fs.ErrNotExist):
		key, err := rsa.GenerateKey(rand.Reader, signingKeyBits)
		if err != nil {
			return nil, fmt.Errorf("events: generate signing key: %w", err)
		}
		if err := writeKeyFile(keyPath, key); err != nil {
			return nil, err
		}
		s, err := NewSigner(key, issuer, log, opts...)
		if err == nil {
			log.Info("generated callback signing key", "path", keyPath, "kid", s.KeyID())
		}
		return s, err
	default:
		return nil, fmt.Errorf("events: read signing key: %w", err)
	}
}

func parseRSAKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no RSA private key PEM block")
		}
		switch block.Type {
		case "RSA PRIVATE KEY":
			return x509.ParsePKCS1PrivateKey(block.Bytes)
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, err
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("PKCS #8 key is %T, want RSA", k)
			}
			return rk, nil
		}
	}
}

// writeKeyFile writes key to path atomically (temp file + rename) with mode
// 0600.
func writeKeyFile(path string, key *rsa.PrivateKey) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("events: create key directory: %w", err)
	}
	f, err := os.CreateTemp(dir, ".signing-key-*")
	if err != nil {
		return fmt.Errorf("events: write signing key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(pemBytes)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("events: write signing key: %w", err)
	}
	return nil
}
