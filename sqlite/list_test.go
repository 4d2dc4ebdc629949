package sqlite

import (
	"testing"

	"github.com/profileapi/profileapi/storetest"
)

func TestEachCustomerPagesByConsents(t *testing.T) {
	db := openDB(t)
	storetest.PagesByConsents(t, db, func(n int) func() {
		old := pageConsents
		pageConsents = n
		return func() { pageConsents = old }
	}, db.customerPage)
}
