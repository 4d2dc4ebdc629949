package token_test

import (
	"context"
	"testing"
	"time"

	"github.com/profileapi/profileapi/token"
)

// benchClaims are a live-shaped token's: a full-length customer id and
// device id.
var benchClaims = token.Claims{
	CustomerID: "amzn1.ask.account.AFJ3EXAMPLEAZQWERTYUIOPASDFGHJKLZXCVBNMQWERTYUIOPASDFGHJKLZXCVBNMQ",
	SkillID:    "amzn1.ask.skill.0f5b5b4e-9a8e-4b39-8c43-2f1d2a6e0b71",
	DeviceID:   "amzn1.ask.device.AEXAMPLEDEVICEIDQWERTYUIOPASDFGHJKL",
	Region:     "NA",
	Audience:   "https://api.amazonalexa.com",
	// As the admin API mints them.
	CustomerCreatedAt: time.UnixMilli(1773500966123),
	SkillCreatedAt:    time.UnixMilli(1773500900007),
}

func BenchmarkVerify(b *testing.B) {
	k, _ := newKeyring(b, nil)
	tok, _, err := k.Issue(context.Background(), benchClaims, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.SetBytes(int64(len(tok)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyParallel(b *testing.B) {
	k, _ := newKeyring(b, nil)
	tok, _, err := k.Issue(context.Background(), benchClaims, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := k.Verify(ctx, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkVerifyForged is the cost of refusing a token with a bad
// signature: what a flood of forged tokens costs.
func BenchmarkVerifyForged(b *testing.B) {
	k, _ := newKeyring(b, nil)
	tok, _, err := k.Issue(context.Background(), benchClaims, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	forged := tok[:len(tok)-4] + "AAAA"
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Verify(ctx, forged); err == nil {
			b.Fatal("a forged token verified")
		}
	}
}

func BenchmarkIssue(b *testing.B) {
	k, _ := newKeyring(b, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := k.Issue(ctx, benchClaims, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
