package token

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// benchClaims are a token's claims with ids as long as the live service's.
var benchClaims = Claims{
	CustomerID: "amzn1.ask.account.AFJ3EXAMPLEAZQWERTYUIOPASDFGHJKLZXCVBNMQWERTYUIOPASDFGHJKLZXCVBNMQ",
	SkillID:    "amzn1.ask.skill.0f5b5b4e-9a8e-4b39-8c43-2f1d2a6e0b71",
	DeviceID:   "amzn1.ask.device.AEXAMPLEDEVICEIDQWERTYUIOPASDFGHJKL",
	Region:     "NA",
	Audience:   "https://api.amazonalexa.com",
	// As the admin API mints them.
	CustomerCreatedAt: time.UnixMilli(1773500966123),
	SkillCreatedAt:    time.UnixMilli(1773500900007),
}

// BenchmarkVerifyFull is Verify without the fast path: golang-jwt's full
// parse, as every request paid before the fast path.
func BenchmarkVerifyFull(b *testing.B) {
	k := newTestKeyring(b, nil)
	ctx := context.Background()
	tok, _, err := k.Issue(ctx, benchClaims, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(tok)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.verifyFull(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseIssued reads the payload Issue writes, which parseIssued
// must read without falling back to parse.
func BenchmarkParseIssued(b *testing.B) {
	k := newTestKeyring(b, nil)
	tok, _, err := k.Issue(context.Background(), benchClaims, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	p, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		var c fastClaims
		if !c.parseIssued(p) {
			b.Fatalf("parseIssued does not read %s", p)
		}
	}
}
