[description]
Stores HttpSessions in PostgreSQL with pgsession: one table in the layout of connect-pg-simple,
attributes as readable JSON, any node may serve any request.
Copy pgsession-<version>-bundle.jar (pgsession with its dependencies relocated inside) into
${jetty.base}/lib/pgsession/.

[tags]
session

[provides]
session-store

[depends]
sessions
session-cache-hash

[lib]
lib/pgsession/*.jar

[xml]
etc/pgsession-session-store.xml

[ini]
## A session stays in memory only while requests use it, so every node reads the latest state.
jetty.session.evictionPolicy?=0
## Write a changed session before the response is sent.
jetty.session.flushOnResponseCommit?=true

[ini-template]
## pgsession session store

## The database: a JDBC URL or a DSN (postgres://user:password@host:5432/db?sslmode=require).
## Without it (and without a JNDI name) the DSN or POSTGRES_* environment variables are used.
#jetty.session.pgsession.jdbcUrl=jdbc:postgresql://localhost:5432/app
#jetty.session.pgsession.user=app
#jetty.session.pgsession.password=
#jetty.session.pgsession.dataSourceJndiName=
#jetty.session.pgsession.maxPoolSize=10
## Seconds, or ISO-8601 (PT5S).
#jetty.session.pgsession.connectionTimeout=5

## The table.
#jetty.session.pgsession.schema=
#jetty.session.pgsession.table=session
#jetty.session.pgsession.createTable=true

## Packages whose classes may be stored in sessions, besides the JDK value types.
#jetty.session.pgsession.allowedPackages=com.example.web
## Part of the inactivity interval that passes before a request that changed nothing moves expire.
#jetty.session.pgsession.touchFraction=0.1
## NEW_SESSION or FAIL, for a row that cannot be read.
#jetty.session.pgsession.onUndecodable=NEW_SESSION
#jetty.session.pgsession.maxSessionBytes=1048576
## Memory for sessions read or written before, reused while their row is unchanged; 0 turns it off.
#jetty.session.pgsession.readCacheBytes=33554432
#jetty.session.pgsession.expireZone=UTC
## Replaces the default row key prefix ("" for the root context, else the context path and "/").
#jetty.session.pgsession.sidPrefix=

## The reaper: durations in seconds or ISO-8601 (PT15M); interval 0 turns it off.
#jetty.session.pgsession.reaperInterval=PT15M
#jetty.session.pgsession.reaperGrace=PT30M
#jetty.session.pgsession.reaperBatchSize=1000

## How long after expiry other nodes' sessions wait before this node expires them (seconds).
#jetty.session.gracePeriod.seconds=60
#jetty.session.savePeriod.seconds=0
