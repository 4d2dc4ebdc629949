-- Times are unix milliseconds, UTC. Scope sets are profileapi.ScopeSet bit masks.
-- WITHOUT ROWID keeps each row in its primary key's b-tree, so a lookup by id
-- is one search, not two: the public API looks up a customer, a skill and a
-- consent on every request.

CREATE TABLE skills (
	id          TEXT    NOT NULL PRIMARY KEY,
	name        TEXT    NOT NULL,
	permissions INTEGER NOT NULL,
	created_at  INTEGER NOT NULL
) WITHOUT ROWID, STRICT;

CREATE TABLE customers (
	id                  TEXT    NOT NULL PRIMARY KEY,
	region              TEXT    NOT NULL,
	name                TEXT    NOT NULL,
	given_name          TEXT    NOT NULL,
	email               TEXT    NOT NULL,
	mobile_country_code TEXT,
	mobile_phone_number TEXT,
	created_at          INTEGER NOT NULL,
	updated_at          INTEGER NOT NULL,
	-- A mobile number is both parts or neither: NULL means the customer has none.
	CHECK ((mobile_country_code IS NULL) = (mobile_phone_number IS NULL))
) WITHOUT ROWID, STRICT;

CREATE TABLE consents (
	customer_id TEXT    NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	skill_id    TEXT    NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
	scopes      INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	PRIMARY KEY (customer_id, skill_id)
) WITHOUT ROWID, STRICT;

-- Deleting a skill cascades to its consents; without this index that is a
-- scan of every consent.
CREATE INDEX consents_skill_id ON consents (skill_id);

CREATE TABLE signing_keys (
	id         TEXT    NOT NULL PRIMARY KEY,
	secret     BLOB    NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;
