// Package tlsconf gives profileapi's listeners HTTPS with no setup.
//
// The official Alexa Skills Kit SDK for Python refuses an API endpoint that
// is not https://, so a stand-in for the Customer Profile API that spoke only
// plain HTTP could not be called by the skills it exists to test. [Auto]
// therefore creates, once, a local certificate authority and a server
// certificate it signs. Clients are told once to trust the authority (see
// [TrustInstructions]); after that the server certificate is re-issued
// whenever it nears expiry or must name a new host, without clients noticing.
//
// An operator who already has a certificate uses [Files] instead.
package tlsconf
