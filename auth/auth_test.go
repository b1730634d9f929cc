package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestHashAndVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(TestParams, 2)
	phc, err := h.Hash(ctx, "correct horse battery")
	if err != nil || !strings.HasPrefix(phc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q %v", phc, err)
	}
	if rehash, err := h.Verify(ctx, "correct horse battery", phc); err != nil || rehash {
		t.Fatalf("verify: rehash %v err %v", rehash, err)
	}
	if _, err := h.Verify(ctx, "wrong", phc); !errors.Is(err, ErrMismatch) {
		t.Fatalf("wrong password: %v", err)
	}
	stronger := NewHasher(Params{Time: 2, Memory: 128, Threads: 1, KeyLen: 32, SaltLen: 16}, 1)
	if rehash, err := stronger.Verify(ctx, "correct horse battery", phc); err != nil || !rehash {
		t.Fatalf("changed parameters must ask for a rehash: %v %v", rehash, err)
	}
	other, _ := h.Hash(ctx, "correct horse battery")
	if other == phc {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestParsePHCRefusesMalformed(t *testing.T) {
	for _, bad := range []string{"", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$a2V5a2V5a2V5a2V5a2V5", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdA$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdA$a2V5a2V5a2V5a2V5a2V5", "$argon2id$v=19$m=64,t=1,p=1$!!$a2V5", "plain"} {
		if _, _, _, err := parsePHC(bad); err == nil {
			t.Errorf("parsePHC(%q) accepted", bad)
		}
	}
}

func TestTokens(t *testing.T) {
	tok, h := NewToken()
	if !ValidTokenShape(tok) || len(tok) != 43 {
		t.Fatalf("token %q", tok)
	}
	if string(HashToken(tok)) != string(h) {
		t.Fatal("hash differs")
	}
	tok2, _ := NewToken()
	if tok == tok2 {
		t.Fatal("tokens repeat")
	}
	for _, bad := range []string{"", "short", strings.Repeat("!", 43), tok + "x"} {
		if ValidTokenShape(bad) {
			t.Errorf("ValidTokenShape(%q)", bad)
		}
	}
}

func TestThrottle(t *testing.T) {
	now := time.Unix(1000, 0)
	th := NewThrottle(3, time.Minute, func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if d, _ := th.Reserve("a"); d != 0 {
			t.Fatalf("attempt %d throttled", i)
		}
	}
	if d, _ := th.Reserve("a"); d != time.Minute {
		t.Fatalf("after 3 attempts wait %v, want 1m", d)
	}
	if d, _ := th.Reserve("b"); d != 0 {
		t.Fatal("other key throttled")
	}
	now = now.Add(61 * time.Second)
	d, undo := th.Reserve("a")
	if d != 0 {
		t.Fatalf("window passed, still wait %v", d)
	}
	undo()
	if len(th.fails["a"]) != 0 {
		t.Fatalf("undo kept the attempt: %v", th.fails["a"])
	}
}

// Attempts made at once are all counted: only `limit` of them get through.
func TestThrottleCountsParallelAttempts(t *testing.T) {
	th := NewThrottle(5, time.Minute, time.Now)
	var wg sync.WaitGroup
	var passed atomic.Int32
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if d, _ := th.Reserve("acct"); d == 0 {
				passed.Add(1)
			}
		}()
	}
	wg.Wait()
	if passed.Load() != 5 {
		t.Fatalf("%d parallel attempts passed, want 5", passed.Load())
	}
}
