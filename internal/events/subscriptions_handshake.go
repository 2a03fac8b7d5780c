package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

type hsOutcome uint8

const (
	hsValidated  hsOutcome = iota // 200 with the code: active
	hsAwaitURL                    // 2xx without it: wait for ConfirmByURL
	hsFailed                      // final refusal: failed
	hsRetry                       // unreachable or 408/429/5xx: try again later
	hsURLTimeout                  // the wait for ConfirmByURL ran out: failed
)

type handshakeJob struct {
	h        *handshakeState
	entry    *subEntry
	attempts int
	awaiting bool
}

// Run performs the validation handshakes of pending subscriptions (at most
// MaxConcurrentHandshakes at a time), retrying unreachable endpoints with
// backoff, until ctx is done; then it waits for in-flight handshakes and
// returns nil. Only one Run may be active.
func (s *Subscriptions) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return ErrRunning
	}
	s.running = true
	s.mu.Unlock()

	var wg sync.WaitGroup
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var jobs []handshakeJob
		var next time.Time
		s.mu.Lock()
		now := s.now()
		inflight := 0
		for _, h := range s.sched {
			if h.inflight {
				inflight++
			}
		}
		for id, h := range s.sched {
			if h.inflight {
				continue
			}
			if h.due.After(now) {
				if next.IsZero() || h.due.Before(next) {
					next = h.due
				}
				continue
			}
			if inflight >= s.opt.MaxConcurrentHandshakes {
				continue // a finishing job signals
			}
			e := s.subs[id]
			if e == nil {
				delete(s.sched, id)
				continue
			}
			h.inflight = true
			inflight++
			jobs = append(jobs, handshakeJob{h: h, entry: e, attempts: h.attempts, awaiting: h.awaitingURL})
		}
		s.mu.Unlock()

		for _, j := range jobs {
			wg.Go(func() {
				s.runJob(ctx, j)
				s.signal()
			})
		}

		var timerC <-chan time.Time
		if !next.IsZero() {
			timer.Reset(max(next.Sub(s.now()), 0))
			timerC = timer.C
		}
		select {
		case <-s.wake:
		case <-timerC:
		case <-ctx.Done():
			wg.Wait()
			s.mu.Lock()
			for _, h := range s.sched {
				h.inflight = false
			}
			s.running = false
			s.mu.Unlock()
			return nil
		}
		timer.Stop()
	}
}

func (s *Subscriptions) runJob(ctx context.Context, j handshakeJob) {
	if j.awaiting {
		s.finishJob(ctx, j, j.entry.code, hsURLTimeout, nil)
		return
	}
	e := j.entry
	if e.codeExpires.Sub(s.now()) < s.opt.CodeValidity/2 {
		// Leave the endpoint most of the validity to call the URL.
		var ok bool
		if e, ok = s.renewCode(ctx, j); !ok {
			return
		}
		j.entry = e
	}
	s.stats.sent.Add(1)
	out, err := s.handshake(ctx, e.sub, e.code, j.attempts)
	if ctx.Err() != nil {
		return // Run resets inflight
	}
	s.finishJob(ctx, j, e.code, out, err)
}

// renewCode gives a pending subscription a new code (the old one is
// expired or close to it).
func (s *Subscriptions) renewCode(ctx context.Context, j handshakeJob) (*subEntry, bool) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	cur, h := s.subs[j.entry.sub.ID], s.sched[j.entry.sub.ID]
	s.mu.Unlock()
	if h != j.h || cur != j.entry {
		s.release(j)
		return nil, false
	}
	next := *cur
	next.code, next.codeExpires = uuid.NewString(), s.now().Add(s.opt.CodeValidity)
	if err := s.saveSub(ctx, &next); err != nil {
		s.log.Error("event subscription: cannot store new validation code", "id", cur.sub.ID, "err", err)
		s.retryLater(j)
		return nil, false
	}
	s.mu.Lock()
	s.subs[next.sub.ID] = &next
	s.mu.Unlock()
	return &next, true
}

// release clears the inflight mark of a job whose subscription moved on.
func (s *Subscriptions) release(j handshakeJob) {
	s.mu.Lock()
	j.h.inflight = false
	s.mu.Unlock()
}

func (s *Subscriptions) retryLater(j handshakeJob) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	j.h.attempts++
	d := s.opt.Backoff.Delay(j.h.attempts)
	j.h.due = s.now().Add(d)
	j.h.inflight = false
	return d
}

// finishJob applies a handshake outcome, unless the subscription changed
// (deleted, revalidated, re-coded, confirmed) while it ran.
func (s *Subscriptions) finishJob(ctx context.Context, j handshakeJob, code string, out hsOutcome, herr error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	id := j.entry.sub.ID
	s.mu.Lock()
	cur, h := s.subs[id], s.sched[id]
	s.mu.Unlock()
	if h != j.h || cur == nil || cur.sub.State != StatePending || cur.code != code {
		s.release(j)
		return
	}
	log := s.log.With("id", id, "name", cur.sub.Name, "endpoint", redactURL(cur.sub.EndpointURL))
	switch out {
	case hsValidated:
		if err := s.setStateLocked(ctx, cur, StateActive, ""); err != nil {
			log.Error("event subscription validated but cannot be saved", "err", err)
			s.retryLater(j)
			return
		}
		s.stats.validated.Add(1)
		log.Info("event subscription validated")
	case hsAwaitURL:
		s.mu.Lock()
		h.inflight, h.awaitingURL, h.due = false, true, cur.codeExpires
		s.mu.Unlock()
		log.Info("event subscription endpoint answered without validationResponse; waiting for its validation URL to be called",
			"until", cur.codeExpires)
	case hsFailed, hsURLTimeout:
		msg := "validation URL was not called in time"
		if out == hsFailed {
			msg = herr.Error()
		}
		if err := s.setStateLocked(ctx, cur, StateFailed, msg); err != nil {
			log.Error("event subscription failed validation but cannot be saved", "err", err)
			s.retryLater(j)
			return
		}
		s.stats.failed.Add(1)
		log.Warn("event subscription failed validation", "err", msg)
	case hsRetry:
		d := s.retryLater(j)
		if msg := herr.Error(); msg != cur.sub.LastError {
			next := *cur
			next.sub = cur.sub.clone()
			next.sub.LastError = msg
			if err := s.saveSub(ctx, &next); err == nil {
				s.install(&next, false)
			}
		}
		log.Warn("event subscription validation handshake failed; will retry", "attempt", j.attempts+1, "err", herr, "retry_in", d.String())
	}
}

// handshake POSTs the validation event to the subscription's endpoint
// (WIRE.md §7.2) and classifies the answer.
func (s *Subscriptions) handshake(ctx context.Context, sub Subscription, code string, attempts int) (hsOutcome, error) {
	body, err := renderValidationEvent(s.now(), s.opt.Topic, code, s.ValidationURL(sub.ID, code))
	if err != nil {
		return hsRetry, err
	}
	hctx, cancel := context.WithTimeout(ctx, s.opt.HandshakeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(hctx, http.MethodPost, sub.EndpointURL, bytes.NewReader(body))
	if err != nil {
		return hsFailed, err
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("aeg-event-type", "SubscriptionValidation")
	h.Set("aeg-subscription-name", sub.Name)
	h.Set("aeg-delivery-count", strconv.Itoa(attempts))
	h.Set("aeg-data-version", "1")
	h.Set("aeg-metadata-version", "1")
	if o := s.outbox; o.signer != nil {
		if tok, err := o.signer.Token(o.opt.Audience); err == nil {
			h.Set("Authorization", "Bearer "+tok)
		}
	}
	if ua := s.outbox.opt.UserAgent; ua != "" {
		h.Set("User-Agent", ua)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return hsRetry, unwrapURLError(err)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxDrain))
	_ = resp.Body.Close()
	switch st := resp.StatusCode; {
	case st == http.StatusOK:
		if err != nil {
			return hsRetry, fmt.Errorf("reading validation response: %w", err)
		}
		got, ok := parseValidationResponse(data)
		if !ok {
			return hsAwaitURL, nil
		}
		if got == code {
			return hsValidated, nil
		}
		return hsFailed, fmt.Errorf("endpoint answered validationResponse %q, want the validation code", truncate(got, 64))
	case st >= 200 && st < 300:
		return hsAwaitURL, nil
	case st == http.StatusRequestTimeout || st == http.StatusTooManyRequests || st >= 500:
		return hsRetry, fmt.Errorf("HTTP %d", st)
	default:
		return hsFailed, fmt.Errorf("endpoint refused validation: HTTP %d", st)
	}
}

// parseValidationResponse extracts validationResponse from an endpoint's
// answer to the validation event (external input: fuzzed). ok is false when
// the body is not a JSON object with a non-empty string validationResponse.
// Key matching ignores case, as Event Grid's does ("ValidationResponse").
func parseValidationResponse(body []byte) (code string, ok bool) {
	var v struct {
		ValidationResponse *string `json:"validationResponse"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.ValidationResponse == nil {
		return "", false
	}
	code = strings.TrimSpace(*v.ValidationResponse)
	return code, code != ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
