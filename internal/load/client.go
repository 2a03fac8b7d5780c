package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboard-oss/switchboard/internal/auth"
)

// APIVersion is the Call Automation api-version the app uses.
const APIVersion = "2026-03-12"

// apiClient sends HMAC-signed requests to the server's REST API over
// keep-alive connections.
type apiClient struct {
	base string // http://127.0.0.1:port
	host string // 127.0.0.1:port, the signed host
	key  string
	hc   *http.Client
}

func newAPIClient(base, key string) (*apiClient, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("api client: bad base URL %q", base)
	}
	tr := &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
	}
	return &apiClient{base: base, host: u.Host, key: key, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}, nil
}

// do sends a signed request; pathQuery is the path with its query string,
// as signed. It returns the status and the body.
func (c *apiClient) do(ctx context.Context, method, pathQuery string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+pathQuery, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, pathQuery, err)
	}
	for k, v := range auth.Sign(method, pathQuery, c.host, body, c.key, time.Now()) {
		req.Header[k] = v
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, pathQuery, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return res.StatusCode, nil, fmt.Errorf("%s %s: reading response: %w", method, pathQuery, err)
	}
	return res.StatusCode, b, nil
}

// getJSON GETs pathQuery and decodes a 200 response into out.
func (c *apiClient) getJSON(ctx context.Context, pathQuery string, out any) error {
	st, b, err := c.do(ctx, http.MethodGet, pathQuery, nil)
	if err != nil {
		return err
	}
	if st != http.StatusOK {
		return fmt.Errorf("GET %s: status %d: %.200s", pathQuery, st, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("GET %s: decoding: %w", pathQuery, err)
	}
	return nil
}

// serverStatus is GET /admin/v1/status.
type serverStatus struct {
	ActiveCalls   int `json:"activeCalls"`
	MediaLegs     int `json:"mediaLegs"`
	MediaMixers   int `json:"mediaMixers"`
	Goroutines    int `json:"goroutines"`
	PendingEvents int `json:"pendingEvents"`
}

func (c *apiClient) status(ctx context.Context) (serverStatus, error) {
	var st serverStatus
	err := c.getJSON(ctx, "/admin/v1/status", &st)
	return st, err
}

// subscriptionStates returns the state of each event subscription by name.
func (c *apiClient) subscriptionStates(ctx context.Context) (map[string]string, error) {
	var v struct {
		Value []struct {
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"value"`
	}
	if err := c.getJSON(ctx, "/admin/v1/eventSubscriptions", &v); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(v.Value))
	for _, s := range v.Value {
		out[s.Name] = s.State
	}
	return out, nil
}

func (c *apiClient) close() { c.hc.CloseIdleConnections() }
