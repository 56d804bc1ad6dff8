-- The session table shared by pgsession (Java servlet containers) and connect-pg-simple (Node).
--
-- The official postgres image runs this file once, when its data volume is first initialised,
-- as POSTGRES_USER in the database POSTGRES_DB. Running it again by hand changes nothing.
-- The CREATE statements are the ones pgsession runs itself when it finds no table
-- (src/main/resources/io/pgsession/session-table.sql); a test keeps the two in step.

CREATE TABLE IF NOT EXISTS "session" (
  "sid" varchar NOT NULL COLLATE "default" PRIMARY KEY,
  "sess" json NOT NULL,
  "expire" timestamp(6) NOT NULL
);
CREATE INDEX IF NOT EXISTS "IDX_session_expire" ON "session" ("expire");

-- The image connects the application as POSTGRES_USER, which owns the table already; the grant
-- states what the application needs. When the application logs in as a role of its own, grant
-- the same to it instead, for example:
--   GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "session" TO app_user;
-- and set pgsession's createTable=false so that it never needs the CREATE privilege.
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "session" TO CURRENT_USER;

DO $$
BEGIN
  RAISE NOTICE 'session table "session" is ready in database %', current_database();
  RAISE NOTICE 'each row holds one web session: its id (sid), its data as JSON (sess) and when it expires (expire)';
  RAISE NOTICE 'written and read by pgsession for Java servlet containers (Jetty, Tomcat) and by connect-pg-simple for Node; both can share it';
END
$$;
