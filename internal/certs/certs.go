package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// File names inside the directory passed to [EnsureLocal].
const (
	CAFileName      = "ca.pem"
	CAKeyFileName   = "ca-key.pem"
	CertFileName    = "server.pem"
	CertKeyFileName = "server-key.pem"
)

const (
	caValidity     = 10 * 365 * 24 * time.Hour
	certValidity   = 365 * 24 * time.Hour
	renewBefore    = 30 * 24 * time.Hour
	backdate       = time.Hour // tolerate clients whose clock is slightly behind
	organization   = "Switchboard"
	caCommonPrefix = "Switchboard Local CA"
)

// Result reports where the files are and what EnsureLocal changed.
type Result struct {
	// CAFile is the CA certificate clients should trust.
	CAFile string
	// CertFile and KeyFile are the server certificate and its private key.
	CertFile, KeyFile string
	// CreatedCA is true when a new CA was generated (first run, or the old
	// one had expired); clients must then trust the new ca.pem.
	CreatedCA bool
	// IssuedCert is true when a new server certificate was written.
	IssuedCert bool
}

// EnsureLocal makes sure dir contains ca.pem/ca-key.pem (a local CA, ECDSA
// P-256, 10 years, CN "Switchboard Local CA <hostname>") and
// server.pem/server-key.pem (signed by that CA, 1 year, SANs = dnsNames and
// ips plus localhost, 127.0.0.1 and ::1). It creates dir (0700) if needed.
//
// On later calls the CA is reused (it is re-created only when it expires
// within 30 days, which forces clients to trust the new ca.pem), and
// the server certificate is re-issued only if it is missing or unreadable,
// does not match its key, is not signed by the CA, expires within 30 days, is
// not yet valid, or does not cover every requested name. A nil now means
// [time.Now].
//
// It fails, rather than overwrite anything, if exactly one of ca.pem and
// ca-key.pem exists or they cannot be parsed.
func EnsureLocal(dir string, dnsNames []string, ips []net.IP, now func() time.Time) (Result, error) {
	if now == nil {
		now = time.Now
	}
	t := now()
	names, ipList, err := normalize(dnsNames, ips)
	if err != nil {
		return Result{}, err
	}
	res := Result{
		CAFile:   filepath.Join(dir, CAFileName),
		CertFile: filepath.Join(dir, CertFileName),
		KeyFile:  filepath.Join(dir, CertKeyFileName),
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Result{}, fmt.Errorf("certs: create %s: %w", dir, err)
	}

	caKeyFile := filepath.Join(dir, CAKeyFileName)
	ca, caKey, err := loadCA(res.CAFile, caKeyFile)
	switch {
	case errors.Is(err, errNoCA):
		ca, caKey = nil, nil
	case err != nil:
		return Result{}, err
	}
	if ca == nil || !t.Add(renewBefore).Before(ca.NotAfter) {
		ca, caKey, err = createCA(res.CAFile, caKeyFile, t)
		if err != nil {
			return Result{}, err
		}
		res.CreatedCA = true
	}

	if !res.CreatedCA && certUsable(res.CertFile, res.KeyFile, ca, names, ipList, t) {
		return res, nil
	}
	if err := issueCert(res.CertFile, res.KeyFile, ca, caKey, names, ipList, t); err != nil {
		return Result{}, err
	}
	res.IssuedCert = true
	return res, nil
}

// normalize lower-cases and de-duplicates names, moves IP literals given as
// names to the IP list, and adds the loopback defaults.
func normalize(dnsNames []string, ips []net.IP) ([]string, []net.IP, error) {
	names := []string{"localhost"}
	ipList := []net.IP{net.IPv4(127, 0, 0, 1).To4(), net.IPv6loopback}
	addIP := func(ip net.IP) {
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		if !slices.ContainsFunc(ipList, ip.Equal) {
			ipList = append(ipList, ip)
		}
	}
	for _, n := range dnsNames {
		n = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(n)), ".")
		if n == "" {
			continue
		}
		if ip := net.ParseIP(strings.Trim(n, "[]")); ip != nil {
			addIP(ip)
			continue
		}
		if !validDNSName(n) {
			return nil, nil, fmt.Errorf("certs: invalid DNS name %q", n)
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, ip := range ips {
		if len(ip) != net.IPv4len && len(ip) != net.IPv6len {
			return nil, nil, fmt.Errorf("certs: invalid IP address %v", ip)
		}
		addIP(ip)
	}
	return names, ipList, nil
}

// validDNSName accepts LDH labels, with an optional leading "*." wildcard.
func validDNSName(n string) bool {
	if len(n) > 253 {
		return false
	}
	n = strings.TrimPrefix(n, "*.")
	for label := range strings.SplitSeq(n, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// errNoCA means neither CA file exists yet.
var errNoCA = errors.New("certs: no CA yet")

func loadCA(certFile, keyFile string) (*x509.Certificate, crypto.Signer, error) {
	certPEM, certErr := os.ReadFile(certFile)
	keyPEM, keyErr := os.ReadFile(keyFile)
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		return nil, nil, errNoCA
	case certErr != nil:
		return nil, nil, fmt.Errorf("certs: read CA certificate (%s exists?): %w", keyFile, certErr)
	case keyErr != nil:
		return nil, nil, fmt.Errorf("certs: read CA key (%s exists?): %w", certFile, keyErr)
	}
	cert, key, err := parsePair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: CA in %s: %w", certFile, err)
	}
	if !cert.IsCA {
		return nil, nil, fmt.Errorf("certs: %s is not a CA certificate", certFile)
	}
	return cert, key, nil
}

// parsePair parses the first certificate in certPEM and a PKCS#8, SEC 1 or
// PKCS#1 private key, and checks that they belong together.
func parsePair(certPEM, keyPEM []byte) (*x509.Certificate, crypto.Signer, error) {
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, nil, errors.New("no CERTIFICATE PEM block")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, nil, errors.New("no private key PEM block")
	}
	var key any
	switch kb.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(kb.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(kb.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(kb.Bytes)
	default:
		err = fmt.Errorf("unsupported key PEM type %q", kb.Type)
	}
	if err != nil {
		return nil, nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, errors.New("private key cannot sign")
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, nil, errors.New("private key does not match certificate")
	}
	return cert, signer, nil
}

func createCA(certFile, keyFile string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: generate CA key: %w", err)
	}
	host, _ := os.Hostname()
	cn := strings.TrimSpace(caCommonPrefix + " " + host)
	if len(cn) > 64 { // RFC 5280 ub-common-name
		cn = cn[:64]
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{organization}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		SubjectKeyId:          keyID(&key.PublicKey),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	if err := writePair(certFile, keyFile, der, key); err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// certUsable reports whether the existing server certificate can be kept.
func certUsable(certFile, keyFile string, ca *x509.Certificate, names []string, ips []net.IP, now time.Time) bool {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return false
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return false
	}
	cert, _, err := parsePair(certPEM, keyPEM)
	if err != nil {
		return false
	}
	if cert.CheckSignatureFrom(ca) != nil || !bytes.Equal(cert.RawIssuer, ca.RawSubject) {
		return false
	}
	if now.Before(cert.NotBefore) || !now.Add(renewBefore).Before(cert.NotAfter) {
		return false
	}
	for _, n := range names {
		if !slices.Contains(cert.DNSNames, n) {
			return false
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

func issueCert(certFile, keyFile string, ca *x509.Certificate, caKey crypto.Signer, names []string, ips []net.IP, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("certs: generate server key: %w", err)
	}
	notAfter := now.Add(certValidity)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: commonName(names), Organization: []string{organization}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              names,
		IPAddresses:           ips,
		SubjectKeyId:          keyID(&key.PublicKey),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("certs: create server certificate: %w", err)
	}
	return writePair(certFile, keyFile, der, key)
}

func writePair(certFile, keyFile string, der []byte, key *ecdsa.PrivateKey) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("certs: marshal key: %w", err)
	}
	// Key first: a crash in between leaves a key without a matching
	// certificate, which the next run detects and replaces.
	if err := writeFileAtomic(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return writeFileAtomic(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func writeFileAtomic(name string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return fmt.Errorf("certs: write %s: %w", name, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("certs: write %s: %w", name, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("certs: write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("certs: write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("certs: write %s: %w", name, err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return fmt.Errorf("certs: write %s: %w", name, err)
	}
	return nil
}

// commonName picks the first caller-supplied DNS name (names[0] is always
// localhost). Clients match SANs, not the CN; it is informational only.
func commonName(names []string) string {
	if len(names) > 1 && len(names[1]) <= 64 {
		return names[1]
	}
	return names[0]
}

func randomSerial() *big.Int {
	limit := new(big.Int).Lsh(big.NewInt(1), 127)
	n, err := rand.Int(rand.Reader, limit)
	if err != nil {
		panic("certs: crypto/rand failed: " + err.Error()) // crypto/rand never fails on supported platforms
	}
	return n.Add(n, big.NewInt(1))
}

// keyID is the RFC 5280 §4.2.1.2 method (1) key identifier.
func keyID(pub *ecdsa.PublicKey) []byte {
	b, err := pub.Bytes()
	if err != nil {
		return nil
	}
	sum := sha1.Sum(b)
	return sum[:]
}
