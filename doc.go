// Package profileapi holds the domain of the Customer Profile API: skills
// that declare scopes, customers that live in a region and own a profile,
// the consent a customer gives a skill, and the Store that keeps them.
//
// It imports no driver and no HTTP code. The public API (package api), the
// control plane (package admin), token issuing (package token) and the stores
// (packages sqlite and postgres) all depend on it, never the other way round.
package profileapi
