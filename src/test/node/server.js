'use strict';

// An ordinary Express application with express-session and connect-pg-simple, used by the Java
// tests to prove that pgsession and connect-pg-simple can share one session table.
//
// Configuration comes from the environment: PGHOST, PGPORT, PGDATABASE, PGUSER and PGPASSWORD
// (read by node-postgres itself), SESSION_SECRET, SESSION_TABLE (default "session") and TZ.
// The server listens on 127.0.0.1 on a free port and prints "listening on <port>" once ready.

const express = require('express');
const session = require('express-session');
const PgStore = require('connect-pg-simple')(session);
const { Pool } = require('pg');

const table = process.env.SESSION_TABLE || 'session';
const secret = process.env.SESSION_SECRET;
if (!secret) {
  console.error('SESSION_SECRET must be set');
  process.exit(2);
}

const pool = new Pool({ max: 4 });
pool.on('error', (err) => console.error('pg pool error', err));

// Pruning runs only when the test asks for it, so that the test decides when it happens.
const store = new PgStore({
  pool,
  tableName: table,
  createTableIfMissing: true,
  pruneSessionInterval: false,
});

const app = express();
app.use(express.json());
app.use(
  session({
    store,
    secret,
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: 60 * 60 * 1000, httpOnly: true },
  })
);

function attributesOf(sess) {
  const copy = { ...sess };
  delete copy.cookie;
  return copy;
}

function describe(req) {
  return {
    sid: req.sessionID,
    expires: req.session.cookie.expires ? req.session.cookie.expires.toISOString() : null,
    originalMaxAge: req.session.cookie.originalMaxAge,
    attributes: attributesOf(req.session),
  };
}

// The session as express-session loaded it for this request's cookie.
app.get('/session', (req, res) => {
  res.json(describe(req));
});

// Sets the attributes in the body's "set" object (and the cookie's maxAge from "maxAge", in
// milliseconds) and saves the session before answering.
app.post('/session', (req, res, next) => {
  const body = req.body || {};
  Object.assign(req.session, body.set || {});
  if (typeof body.maxAge === 'number') {
    req.session.cookie.maxAge = body.maxAge;
  }
  req.session.save((err) => (err ? next(err) : res.json(describe(req))));
});

app.post('/session/destroy', (req, res, next) => {
  req.session.destroy((err) => (err ? next(err) : res.json({ destroyed: true })));
});

// connect-pg-simple's own pruning, as its timer would run it.
app.post('/prune', (req, res, next) => {
  store.pruneSessions((err) => (err ? next(err) : res.json({ pruned: true })));
});

// The row's expiry as this application's connections read it: connect-pg-simple compares the
// column with to_timestamp(), so the column is read in the connection's (the database's) zone.
app.get('/expire/:sid', async (req, res, next) => {
  try {
    const result = await pool.query(
      `SELECT (extract(epoch FROM expire::timestamptz) * 1000)::float8 AS millis,
              current_setting('TimeZone') AS zone
         FROM "${table.replaceAll('"', '""')}" WHERE sid = $1`,
      [req.params.sid]
    );
    const row = result.rows[0];
    res.json(row ? { millis: row.millis, zone: row.zone } : { millis: null });
  } catch (err) {
    next(err);
  }
});

app.use((err, req, res, next) => {
  console.error('request failed', req.method, req.url, err);
  res.status(500).json({ error: String(err && err.message) });
});

const server = app.listen(0, '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});

function shutdown() {
  server.close(() => pool.end().finally(() => process.exit(0)));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
