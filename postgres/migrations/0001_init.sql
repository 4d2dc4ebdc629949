-- Times are timestamptz, kept to the millisecond by the program. Scope sets
-- are profileapi.ScopeSet bit masks. Ids are COLLATE "C" so that ORDER BY id
-- is byte order, as in SQLite, whatever the database's default collation.

CREATE TABLE skills (
	id          text COLLATE "C" NOT NULL PRIMARY KEY,
	name        text             NOT NULL,
	permissions smallint         NOT NULL,
	created_at  timestamptz      NOT NULL
);

CREATE TABLE customers (
	id                  text COLLATE "C" NOT NULL PRIMARY KEY,
	region              text             NOT NULL,
	name                text             NOT NULL,
	given_name          text             NOT NULL,
	email               text             NOT NULL,
	mobile_country_code text,
	mobile_phone_number text,
	created_at          timestamptz      NOT NULL,
	updated_at          timestamptz      NOT NULL,
	-- A mobile number is both parts or neither: NULL means the customer has none.
	CHECK ((mobile_country_code IS NULL) = (mobile_phone_number IS NULL))
);

CREATE TABLE consents (
	customer_id text COLLATE "C" NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	skill_id    text COLLATE "C" NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
	scopes      smallint         NOT NULL,
	updated_at  timestamptz      NOT NULL,
	PRIMARY KEY (customer_id, skill_id)
);

-- Deleting a skill cascades to its consents; without this index that is a
-- scan of every consent.
CREATE INDEX consents_skill_id ON consents (skill_id);

CREATE TABLE signing_keys (
	id         text COLLATE "C" NOT NULL PRIMARY KEY,
	secret     bytea            NOT NULL,
	created_at timestamptz      NOT NULL
);
