package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

type outcome uint8

const (
	outcomeDelivered  outcome = iota // 2xx
	outcomeNoResponse                // written, no answer within ResponseTimeout: done
	outcomeRejected                  // final status or unusable request: drop
	outcomeRetry                     // try again later
	outcomeCanceled                  // Run is stopping
)

var (
	errConnectTimeout  = errors.New("timed out connecting or writing the request")
	errResponseTimeout = errors.New("timed out waiting for the response")
)

type attemptResult struct {
	outcome    outcome
	status     int
	err        error
	retryAfter time.Duration
	reused     bool // the request went out on a kept-alive connection
}

func (r attemptResult) String() string {
	if r.err != nil {
		return r.err.Error()
	}
	return "HTTP " + strconv.Itoa(r.status)
}

// maxDrain is how much of a response body is read so the connection can be
// reused.
const maxDrain = 64 << 10

// attempt POSTs r once and classifies the result.
//
// The request's life has two phases, told apart with httptrace: until the
// whole request has been written (connect, TLS, write) any failure means the
// receiver may not have it, so it is retried (ConnectTimeout bounds this
// phase). Once written, the receiver has the event: a response-header wait
// longer than ResponseTimeout counts as delivered, while a connection the
// receiver closes or resets without answering is retried (typically a
// kept-alive connection it had just closed).
func (o *Outbox) attempt(ctx context.Context, r *outboxRow, attempts int) attemptResult {
	o.stats.attempts.Add(1)
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	const (
		sending int32 = iota
		written
		aborted
	)
	var phase atomic.Int32
	var reused atomic.Bool
	var mu sync.Mutex
	var respTimer *time.Timer
	connectTimer := time.AfterFunc(o.opt.ConnectTimeout, func() {
		if phase.CompareAndSwap(sending, aborted) {
			cancel(errConnectTimeout)
		}
	})
	defer connectTimer.Stop()
	defer func() {
		mu.Lock()
		if respTimer != nil {
			respTimer.Stop()
		}
		mu.Unlock()
	}()
	trace := &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { reused.Store(info.Reused) },
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err != nil || !phase.CompareAndSwap(sending, written) {
				return
			}
			connectTimer.Stop()
			mu.Lock()
			respTimer = time.AfterFunc(o.opt.ResponseTimeout, func() { cancel(errResponseTimeout) })
			mu.Unlock()
		},
	}

	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(actx, trace), http.MethodPost, r.url, bytes.NewReader(r.body))
	if err != nil {
		return attemptResult{outcome: outcomeRejected, err: err}
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	if o.opt.UserAgent != "" {
		h.Set("User-Agent", o.opt.UserAgent)
	}
	if o.signer != nil {
		aud := r.audience
		if aud == "" {
			aud = o.opt.Audience
		}
		tok, err := o.signer.Token(aud)
		if err != nil {
			return attemptResult{outcome: outcomeRetry, err: err}
		}
		h.Set("Authorization", "Bearer "+tok)
	}
	if r.kind == KindEventGrid {
		h.Set("aeg-event-type", "Notification")
		if r.subName != "" {
			h.Set("aeg-subscription-name", r.subName)
		}
		h.Set("aeg-delivery-count", strconv.Itoa(attempts))
		h.Set("aeg-data-version", "1.0")
		h.Set("aeg-metadata-version", "1")
	}

	resp, err := o.client.Do(req)
	if err != nil {
		res := attemptResult{err: err, reused: reused.Load()}
		switch {
		case ctx.Err() != nil:
			res.outcome = outcomeCanceled
		case phase.Load() == written && errors.Is(context.Cause(actx), errResponseTimeout):
			res.outcome = outcomeNoResponse
		default:
			if cause := context.Cause(actx); cause != nil {
				res.err = cause
			}
			res.err = unwrapURLError(res.err)
			res.outcome = outcomeRetry
		}
		return res
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	_ = resp.Body.Close()
	return classifyStatus(resp, o.now())
}

// classifyStatus maps an HTTP status to an outcome: 2xx delivered; 408, 429
// and 5xx retried (honouring Retry-After); anything else final.
func classifyStatus(resp *http.Response, now time.Time) attemptResult {
	res := attemptResult{status: resp.StatusCode}
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		res.outcome = outcomeDelivered
	case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500:
		res.outcome = outcomeRetry
		res.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	default:
		res.outcome = outcomeRejected
		res.err = fmt.Errorf("HTTP %d", s)
	}
	return res
}

// parseRetryAfter reads delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(min(secs, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redactURL drops the query string and user info, which may carry secrets
// (callback URIs often hold an API key in the query), before logging.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid URL>"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	u.Fragment = ""
	return u.String()
}
