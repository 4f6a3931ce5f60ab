package people_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/citizen-city/chengguantong/model"
	"github.com/citizen-city/chengguantong/service/people"
)

func TestTokens(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tokens := people.NewTokens([]byte(strings.Repeat("k", 32)), time.Hour, clock)
	p := model.Principal{UserID: "u1", Kind: model.KindWeChat}
	tok, exp, err := tokens.Issue(p)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(now.Add(time.Hour)) {
		t.Fatalf("expires %v", exp)
	}
	got, err := tokens.Verify(tok)
	if err != nil || got != p {
		t.Fatalf("Verify = %+v, %v", got, err)
	}

	other := people.NewTokens([]byte(strings.Repeat("x", 32)), time.Hour, clock)
	parts := strings.Split(tok, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"knd":"staff","iss":"chengguantong","sub":"u1","exp":9999999999}`)) + "." + parts[2]
	cases := map[string]struct {
		tokens *people.Tokens
		token  string
	}{
		"other secret":   {other, tok},
		"alg none":       {tokens, none},
		"tampered claim": {tokens, tampered},
		"garbage":        {tokens, "not-a-token"},
	}
	for name, c := range cases {
		if _, err := c.tokens.Verify(c.token); !errors.Is(err, model.ErrUnauthenticated) {
			t.Errorf("%s: err = %v, want unauthenticated", name, err)
		}
	}

	now = now.Add(time.Hour + time.Second)
	_, err = tokens.Verify(tok)
	if !errors.Is(err, model.ErrUnauthenticated) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired token: %v", err)
	}
}

func TestNormalizeInviteCode(t *testing.T) {
	for in, want := range map[string]string{
		" ab12-cd34-ef56 ": "AB12CD34EF56",
		"OIL0":             "0110",
		"":                 "",
	} {
		if got := people.NormalizeInviteCode(in); got != want {
			t.Errorf("NormalizeInviteCode(%q) = %q, want %q", in, got, want)
		}
	}
}
