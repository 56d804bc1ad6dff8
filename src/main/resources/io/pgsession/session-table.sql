CREATE TABLE IF NOT EXISTS ${table} (
  "sid" varchar NOT NULL COLLATE "default" PRIMARY KEY,
  "sess" json NOT NULL,
  "expire" timestamp(6) NOT NULL
);
CREATE INDEX IF NOT EXISTS ${index} ON ${table} ("expire");
