package main

import (
	"strings"
	"testing"
)

func TestRedactURLHidesEveryPassword(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://app:S3cret@db:5432/profiles?sslmode=disable", "postgres://app:xxxxx@db:5432/profiles?sslmode=disable"},
		{"postgres://app@db/profiles?sslmode=disable&password=S3cret", "postgres://app@db/profiles?sslmode=disable&password=xxxxx"},
		{"postgres://app@db/profiles?sslpassword=S3cret&sslkey=/k.pem", "postgres://app@db/profiles?sslpassword=xxxxx&sslkey=/k.pem"},
		{"postgres://app@db/profiles?Password=S3c;ret", "postgres://app@db/profiles?Password=xxxxx"},
		{"postgres://app@db/profiles?pass%77ord=S3cret", "postgres://app@db/profiles?pass%77ord=xxxxx"},
		{"postgres://app@db/profiles?password=S3c%ret", "postgres://app@db/profiles?password=xxxxx"},
		{"postgres://app@db/profiles?sslmode=disable;password=S3cret", "postgres://app@db/profiles?sslmode=xxxxx"}, // one pair to url.ParseQuery
		{"redis://:S3cret@cache:6379/0", "redis://:xxxxx@cache:6379/0"},
		{"host=db user=app password=S3cret dbname=profiles", "host=db user=app password=xxxxx dbname=profiles"},
		{"host=db password = 'S3 cr\\'et' dbname=profiles", "host=db password = xxxxx dbname=profiles"},
		{"/var/lib/profileapi/profiles.db", "/var/lib/profileapi/profiles.db"},
		{"postgres://app@db/profiles", "postgres://app@db/profiles"},
	} {
		got := redactURL(tc.in)
		if got != tc.want || strings.Contains(got, "S3") {
			t.Errorf("redactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
