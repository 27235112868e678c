package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite" // registers the pure-Go "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"hookline/pkg/event"
	"hookline/pkg/wiring"
)

// ErrClosed is returned by every operation on a closed Engine.
var ErrClosed = errors.New("local engine is closed")

// Durability says which failures a committed write survives.
type Durability int

const (
	// DurabilityProcess (the default) uses synchronous=NORMAL in WAL mode: a commit is in the
	// WAL file (the OS page cache) before Publish returns, so it survives kill -9 and crashes
	// of the process — the promise of a 202 — but not an OS crash or power loss. Measured on
	// the 2-core dev VM it gives 2.5× the serial commit rate of FULL and is the only setting
	// that meets the local ≥ 2,000 events/s target (see doc.go).
	DurabilityProcess Durability = iota
	// DurabilityPowerLoss uses synchronous=FULL: the WAL is fsynced on every commit (one
	// fsync per group commit, not per write), so acknowledged events survive power loss too.
	DurabilityPowerLoss
)

// Options tunes an Engine. The zero value is sensible.
type Options struct {
	Durability Durability
	// TTL is how long stored events are kept (the DynamoDB TTL attribute). 0 means
	// wiring.Retention, as on AWS.
	TTL time.Duration
	// SweepInterval is how often expired events and stream records are deleted. 0 means 1 h;
	// negative disables the sweep.
	SweepInterval time.Duration
	// StreamRetention is how long change-stream records are kept, like DynamoDB Streams' 24 h.
	// 0 means 24 h.
	StreamRetention time.Duration
	Log             *slog.Logger // nil means slog.Default()
	// HandOff is how many published messages per queue may wait in memory for this
	// process's receivers (handoff.go): such a message costs its receiver no write. 0 turns
	// it off: every message is received from the table.
	HandOff int
	// HandOffBytes bounds the bodies waiting in one queue's line (0 means DefaultHandOffBytes):
	// a message that would pass it goes the table's way, so a burst of large bodies cannot
	// hold HandOff × 256 KiB in memory.
	HandOffBytes int64
	// Clock is the time queues run on: when a message was sent and when its visibility timeout
	// ends. nil means time.Now. Tests pass a clock they advance, so a message reappears when the
	// test says so rather than when a short timeout happens to run out on a busy machine.
	Clock func() time.Time

	// checkpointEvery replaces checkpointEvery (checkpoint.go); negative: no passes at all.
	checkpointEvery time.Duration
	// checkpointClock replaces time.Now in checkpoint.go's timings (tests; nil: time.Now).
	checkpointClock func() time.Time
	// writeback replaces startWriteback in checkpoint.go (tests; nil: startWriteback).
	writeback func(*os.File) error
}

// busyTimeoutMS is how long a connection waits for a lock another connection or process holds.
const busyTimeoutMS = 10000

// schemaVersion is stored in PRAGMA user_version; migrate brings older files up to it.
const schemaVersion = 11

// migration upgrades a file by one version: SQL, then (optionally) Go for what SQL cannot
// compute, in the same transaction.
type migration struct {
	sql string
	fn  func(tx *sql.Tx) error
}

// messagesColumns are the messages table's columns after seq, as migration 0 created them and
// migration 9 copies them (only seq's AUTOINCREMENT goes). Changing them changes both migrations,
// which files already ran: TestMigrationsAreHistory pins every migration's SQL.
const messagesColumns = `
	queue             TEXT NOT NULL,
	message_id        TEXT NOT NULL,
	body              BLOB NOT NULL,
	attrs             TEXT NOT NULL,
	sent_at           INTEGER NOT NULL,  -- unix nanos
	visible_at        INTEGER NOT NULL,  -- unix nanos; in flight while in the future
	receive_count     INTEGER NOT NULL DEFAULT 0,
	first_received_at INTEGER NOT NULL DEFAULT 0,
	receipt           TEXT NOT NULL DEFAULT '',
	reason            TEXT NOT NULL DEFAULT '',
	dead_from         TEXT NOT NULL DEFAULT '',  -- the queue it was dead-lettered from
	dead_at           INTEGER NOT NULL DEFAULT 0
`

// migrations[i] upgrades a file from user_version i to i+1.
var migrations = []migration{
	{sql: `
CREATE TABLE queues (
	name                 TEXT PRIMARY KEY,
	visibility_timeout_ms INTEGER NOT NULL,
	max_receive_count    INTEGER NOT NULL,
	dead_letter_queue    TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE TABLE subscriptions (
	topic TEXT NOT NULL,
	queue TEXT NOT NULL REFERENCES queues(name),
	PRIMARY KEY (topic, queue)
) STRICT, WITHOUT ROWID;
CREATE TABLE messages (
	seq               INTEGER PRIMARY KEY AUTOINCREMENT,` + messagesColumns + `) STRICT;
CREATE INDEX messages_visible ON messages (queue, visible_at, seq);
CREATE INDEX messages_id ON messages (queue, message_id);
CREATE TABLE events (
	id           TEXT PRIMARY KEY,
	source       TEXT NOT NULL,
	type         TEXT NOT NULL,
	received_key TEXT NOT NULL,
	envelope     BLOB NOT NULL,
	stored_at    INTEGER NOT NULL,
	notified_at  INTEGER,
	expires_at   INTEGER NOT NULL  -- unix seconds; 0 = never
) STRICT;
CREATE INDEX events_received ON events (received_key);
CREATE INDEX events_source ON events (source, received_key);
CREATE INDEX events_type ON events (type, received_key);
CREATE INDEX events_expires ON events (expires_at) WHERE expires_at > 0;
CREATE TABLE stream (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	event_name TEXT NOT NULL,
	keys       TEXT NOT NULL,
	new_image  TEXT NOT NULL,
	size_bytes INTEGER NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE checkpoints (
	consumer TEXT PRIMARY KEY,
	seq      INTEGER NOT NULL
) STRICT;
CREATE TABLE stream_failures (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	consumer  TEXT NOT NULL,
	seq       INTEGER NOT NULL,
	record    TEXT NOT NULL,
	reason    TEXT NOT NULL,
	failed_at INTEGER NOT NULL
) STRICT;
CREATE INDEX stream_failures_consumer ON stream_failures (consumer, id);
`},
	// 2: the index of the secret that verified each event (rotation tracking), copied out of
	// the envelope like source and type; NULL for events stored without evidence.
	{sql: `
ALTER TABLE events ADD COLUMN verify_key INTEGER;
UPDATE events SET verify_key = json_extract(CAST(envelope AS TEXT), '$.verifykey')
	WHERE json_valid(CAST(envelope AS TEXT));
`},
	// 3: type groups (exact types and prefixes read one index range, like DynamoDB's
	// by_type_group) and the blob table for bodies over the bus limit (claim check).
	{sql: `
ALTER TABLE events ADD COLUMN type_group TEXT NOT NULL DEFAULT '';
DROP INDEX events_type;
CREATE TABLE blobs (
	key        TEXT PRIMARY KEY,
	body       BLOB NOT NULL,
	created_at INTEGER NOT NULL,  -- unix nanos
	expires_at INTEGER NOT NULL   -- unix seconds; 0 = never
) STRICT;
CREATE INDEX blobs_expires ON blobs (expires_at) WHERE expires_at > 0;
`, fn: backfillTypeGroups},
	// 4: events still waiting for their completion email, oldest first (hookline notify
	// --pending, the pending-age gauge); an event leaves the index when it is marked.
	{sql: `
CREATE INDEX events_pending ON events (stored_at) WHERE notified_at IS NULL;
`},
	// 5: the quarantine: refused webhook requests, kept 7 days (pipeline.RejectedStore).
	{sql: `
CREATE TABLE rejected (
	id            TEXT PRIMARY KEY,
	source        TEXT NOT NULL,
	reason        TEXT NOT NULL,
	received_key  TEXT NOT NULL,     -- <received_at>#<id>, as for events
	record        TEXT NOT NULL,     -- pipeline.Rejection as JSON, without the body
	body          BLOB NOT NULL,
	expires_at    INTEGER NOT NULL,  -- unix seconds
	readmitted_at INTEGER,           -- unix nanos
	event_id      TEXT
) STRICT;
CREATE INDEX rejected_received ON rejected (received_key);
CREATE INDEX rejected_source ON rejected (source, received_key);
CREATE INDEX rejected_expires ON rejected (expires_at);
`},
	// 6: stream images in a compact binary form (image.go) instead of DynamoDB JSON in keys and
	// new_image, which stay for the records written before (empty on new ones). Messages are
	// found by receipt handle (seq), not message id: that index cost a random page per publish.
	{sql: `
ALTER TABLE stream ADD COLUMN image BLOB;
DROP INDEX messages_id;
`},
	// 7: digests: events waiting for their source's next digest email (pipeline.DigestStore).
	{sql: `
CREATE TABLE digests (
	source TEXT NOT NULL,
	due    INTEGER NOT NULL,           -- unix seconds
	taken  INTEGER NOT NULL DEFAULT 0, -- 1: closed to adds, being sent
	done   INTEGER NOT NULL DEFAULT 0, -- 1: its email went out
	PRIMARY KEY (source, due)
) STRICT;
CREATE TABLE digest_events (
	source TEXT NOT NULL,
	due    INTEGER NOT NULL,
	id     TEXT NOT NULL,
	PRIMARY KEY (source, due, id)
) STRICT;
`},
	// 8: a stream record may refer to its events row (by id) instead of holding the image,
	// which repeated the envelope: two records filled a 4 KiB page (see PutNew, streamImage).
	{sql: `
ALTER TABLE stream ADD COLUMN event_id TEXT;
`},
	// 9: messages without AUTOINCREMENT, whose counter row (sqlite_sequence) every commit that
	// published rewrote: a WAL frame. A seq may now be used again once its message is gone;
	// a receipt handle still names one receive of one message, by its random token.
	{sql: `
CREATE TABLE messages9 (
	seq               INTEGER PRIMARY KEY,` + messagesColumns + `) STRICT;
INSERT INTO messages9 SELECT seq, queue, message_id, body, attrs, sent_at, visible_at, receive_count,
	first_received_at, receipt, reason, dead_from, dead_at FROM messages;
DROP TABLE messages;
ALTER TABLE messages9 RENAME TO messages;
CREATE INDEX messages_visible ON messages (queue, visible_at, seq);
`},
	// 10: the stream without AUTOINCREMENT, whose counter row (sqlite_sequence) every PutNew
	// rewrote: a WAL frame per commit that stored an event, and a scan and an update per
	// statement. A new record's seq is the largest one + 1, so the largest must never go (a
	// consumer's checkpoint would skip the records that reuse it): the sweep blanks the newest
	// record instead of deleting it (streamTrimmed, ReadStream skips it), and this migration
	// keeps the counter as such a record when the newest records are gone already.
	{sql: `
CREATE TABLE stream10 (
	seq        INTEGER PRIMARY KEY,
	event_name TEXT NOT NULL,
	keys       TEXT NOT NULL,
	new_image  TEXT NOT NULL,
	size_bytes INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	image      BLOB,
	event_id   TEXT
) STRICT;
INSERT INTO stream10 SELECT seq, event_name, keys, new_image, size_bytes, created_at, image, event_id FROM stream;
INSERT INTO stream10 (seq, event_name, keys, new_image, size_bytes, created_at)
	SELECT seq, 'TRIMMED', '', '', 0, 0 FROM sqlite_sequence
	WHERE name = 'stream' AND seq > (SELECT COALESCE(max(seq), 0) FROM stream);
DROP TABLE stream;
ALTER TABLE stream10 RENAME TO stream;
`},
	// 11: the sweep finds expired events through expiry_blocks instead of the index
	// events_expires, which cost every commit that stored events a WAL frame (its newest leaf).
	// A block is 512 consecutive rowids of events (rowid >> 9, expiryBlockShift); its row says
	// that no event of the block with expires_at > 0 expires before min_expires. The trigger
	// keeps that true for every insert, and writes only when an event expires before every
	// other of its block: with one TTL, once per block, not once per commit.
	{sql: `
CREATE TABLE expiry_blocks (
	block       INTEGER PRIMARY KEY,  -- events.rowid >> 9
	min_expires INTEGER NOT NULL      -- unix seconds
) STRICT;
INSERT INTO expiry_blocks (block, min_expires)
	SELECT rowid >> 9, min(expires_at) FROM events WHERE expires_at > 0 GROUP BY rowid >> 9;
CREATE TRIGGER events_expiry AFTER INSERT ON events WHEN new.expires_at > 0 BEGIN
	INSERT INTO expiry_blocks (block, min_expires) VALUES (new.rowid >> 9, new.expires_at)
		ON CONFLICT (block) DO UPDATE SET min_expires = excluded.min_expires
		WHERE excluded.min_expires < expiry_blocks.min_expires;
END;
DROP INDEX events_expires;
`},
}

// expiryBlockShift makes an events rowid its block in expiry_blocks (schema 11's 9).
const expiryBlockShift = 9

// streamTrimmed is the EventName of the newest stream record once the sweep trimmed it: a
// record without content that keeps the largest seq (schema 10). ReadStream skips it.
const streamTrimmed = "TRIMMED"

// backfillTypeGroups sets type_group on events stored before version 3, then indexes it.
func backfillTypeGroups(tx *sql.Tx) error {
	types, err := queryStrings(tx, `SELECT DISTINCT type FROM events`)
	if err != nil {
		return err
	}
	for _, t := range types {
		if _, err := tx.Exec(`UPDATE events SET type_group = ? WHERE type = ?`, event.TypeGroup(t), t); err != nil {
			return err
		}
	}
	_, err = tx.Exec(`CREATE INDEX events_type_group ON events (type_group, received_key)`)
	return err
}

// Engine is the embedded bus, queues, events table and change stream in one SQLite file.
// All writes go through one goroutine that commits concurrent requests together (group
// commit); reads use a separate pool and never wait for the writer.
type Engine struct {
	wdb, rdb *sql.DB
	cdb      *sql.DB // the checkpointer's connection
	// wconn is wdb's one connection, held by the writer goroutine from Open to Close. It
	// begins and commits with prepared statements: database/sql's BeginTx prepared "BEGIN
	// IMMEDIATE" and "COMMIT" anew for every group commit and started a goroutine to watch
	// its context (51k instructions for a commit of one insert, 37k this way).
	wconn                       *sql.Conn
	begin, commitTx, rollbackTx *sql.Stmt
	// dbFile is the database file, open only so the checkpointer can fsync it (checkpoint.go);
	// releaseDBFile lets go of it after the connections close (syncfile.go).
	dbFile        *os.File
	releaseDBFile func() error
	// shmFile is the WAL-index (the -shm file), nil if it could not be opened; readAhead only.
	shmFile    *os.File
	releaseShm func() error
	raBuf      []byte // readAhead's buffer, checkpointer only
	path       string
	fsync      func(*os.File) error // (*os.File).Sync; tests wrap it to see what is synced, and when
	opts       Options
	log        *slog.Logger

	ops            chan *writeOp   // unbuffered: a successful send means the writer took the op
	restarts       chan chan error // the checkpointer's requests to start the WAL over (checkpoint.go)
	closed         chan struct{}
	writerDone     chan struct{}
	sweepDone      chan struct{}
	checkpointDone chan struct{}
	commits        atomic.Int64 // group commits since the checkpointer's last pass
	closeOnce      sync.Once

	mu       sync.RWMutex
	queues   map[string]QueueConfig
	subs     map[string][]string // topic → queues
	waiters  map[string]*broadcaster
	handoffs map[string]*handoff
	stream   broadcaster

	events *Store
	// commitHook, set by tests only, runs after each commit, before the ops' signals.
	commitHook atomic.Pointer[func()]
	// Prepared on the write connection; writer goroutine only.
	stmts      map[string]*sql.Stmt
	unprepared map[string]bool
}

// Open opens (creating or migrating) the engine's database file at path.
func Open(path string, opts Options) (*Engine, error) {
	if opts.TTL == 0 {
		opts.TTL = wiring.Retention
	}
	if opts.SweepInterval == 0 {
		opts.SweepInterval = time.Hour
	}
	if opts.StreamRetention == 0 {
		opts.StreamRetention = 24 * time.Hour
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	sync := "NORMAL"
	if opts.Durability == DurabilityPowerLoss {
		sync = "FULL"
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.Itoa(busyTimeoutMS)+")")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", "foreign_keys(1)")
	// IMMEDIATE takes the write lock at BEGIN, so another process writing the same file (the
	// CLI redriving a DLQ) waits on busy_timeout instead of failing with SQLITE_BUSY mid-tx.
	wq := url.Values{"_txlock": {"immediate"}}
	// No automatic checkpoints on the writer: the checkpointer (checkpoint.go) runs them from
	// its own connection. The WAL is removed on a clean close.
	wq.Add("_pragma", "wal_autocheckpoint(0)")
	// Each op of a group commit runs in a savepoint, and SQLite saves the original of every
	// page an op changes in the statement journal. That journal spills to a temporary file
	// past 64 KiB, and then every saved page cost two write syscalls (a profile flat out: 5.7 %
	// of the process's CPU); in memory it is a copy.
	wq.Add("_pragma", "temp_store(MEMORY)")
	for _, p := range q["_pragma"] {
		wq.Add("_pragma", p)
	}
	wdb, err := sql.Open("sqlite", "file:"+path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// One connection: SQLite has one writer anyway, and group commit needs a single owner.
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	if err := migrate(wdb); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	rq := url.Values{}
	rq.Add("_pragma", "busy_timeout("+strconv.Itoa(busyTimeoutMS)+")")
	rq.Add("_pragma", "query_only(1)")
	rdb, err := sql.Open("sqlite", "file:"+path+"?"+rq.Encode())
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open %s for reading: %w", path, err)
	}
	rdb.SetMaxOpenConns(4)
	rdb.SetMaxIdleConns(4)
	cdb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		wdb.Close()
		rdb.Close()
		return nil, fmt.Errorf("open %s for checkpoints: %w", path, err)
	}
	cdb.SetMaxOpenConns(1)
	cdb.SetMaxIdleConns(1)
	cdb.SetConnMaxLifetime(0)

	dbFile, releaseDBFile, err := openDBFile(path)
	if err != nil {
		wdb.Close()
		rdb.Close()
		cdb.Close()
		return nil, err
	}
	// The WAL-index, read by the checkpointer for where the writer writes (readAhead); shared
	// and released like the database file's descriptor: closing one drops SQLite's locks on it.
	shmFile, releaseShm, err := openDBFile(path + "-shm")
	if err != nil {
		shmFile, releaseShm = nil, func() error { return nil } // no read-ahead
	}
	e := &Engine{
		shmFile: shmFile, releaseShm: releaseShm,
		wdb: wdb, rdb: rdb, cdb: cdb, dbFile: dbFile, releaseDBFile: releaseDBFile, path: path, fsync: (*os.File).Sync, opts: opts, log: log,
		ops:            make(chan *writeOp),
		restarts:       make(chan chan error),
		closed:         make(chan struct{}),
		writerDone:     make(chan struct{}),
		sweepDone:      make(chan struct{}),
		checkpointDone: make(chan struct{}),
		queues:         map[string]QueueConfig{},
		subs:           map[string][]string{},
		waiters:        map[string]*broadcaster{},
		handoffs:       map[string]*handoff{},
		stmts:          map[string]*sql.Stmt{},
		unprepared:     map[string]bool{},
	}
	e.events = &Store{e: e}
	err = e.loadTopology()
	if err == nil {
		err = e.holdWriteConn()
	}
	if err != nil {
		wdb.Close()
		rdb.Close()
		cdb.Close()
		releaseDBFile()
		releaseShm()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	go e.writer()
	go e.sweeper()
	go e.checkpointer(cdb)
	return e, nil
}

func migrate(db *sql.DB) error {
	var v int
	// The first statement on a connection switches the file to WAL (journal_mode), which needs
	// the file to itself: processes doing so on a fresh file at once can deadlock, and SQLite
	// then fails one at once with SQLITE_BUSY instead of waiting on busy_timeout. By the next
	// try the other has finished.
	for try := 0; ; try++ {
		err := db.QueryRow(`PRAGMA user_version`).Scan(&v)
		if err == nil {
			break
		}
		var se *sqlite.Error
		if !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || try == 50 {
			return fmt.Errorf("read schema version: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v > schemaVersion {
		return fmt.Errorf("schema version %d is newer than this binary's %d", v, schemaVersion)
	}
	for v < schemaVersion {
		tx, err := db.Begin()
		if err != nil {
			return fmt.Errorf("migrate to schema %d: %w", v+1, err)
		}
		// The version again, inside the transaction: its BEGIN IMMEDIATE (the writer's
		// _txlock) holds the write lock, so a process that opened the same fresh file at the
		// same time has either committed this step (skip it) or waits for us. Read before the
		// lock, both would run it: "table queues already exists".
		if err := tx.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
			tx.Rollback()
			return fmt.Errorf("read schema version under the write lock: %w", err)
		}
		if v >= schemaVersion {
			tx.Rollback()
			if v > schemaVersion {
				return fmt.Errorf("schema version %d is newer than this binary's %d", v, schemaVersion)
			}
			return nil
		}
		m := migrations[v]
		if _, err := tx.Exec(m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to schema %d: %w", v+1, err)
		}
		if m.fn != nil {
			if err := m.fn(tx); err != nil {
				tx.Rollback()
				return fmt.Errorf("migrate to schema %d: %w", v+1, err)
			}
		}
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, v+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to schema %d: %w", v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate to schema %d: %w", v+1, err)
		}
		v++
	}
	return nil
}

// holdWriteConn takes the write connection for the writer and prepares its BEGIN, COMMIT and
// ROLLBACK. (Any use of wdb itself from now on would wait for the connection forever.)
func (e *Engine) holdWriteConn() error {
	ctx := context.Background()
	c, err := e.wdb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("write connection: %w", err)
	}
	e.wconn = c
	stmts := []**sql.Stmt{&e.begin, &e.commitTx, &e.rollbackTx}
	for i, q := range []string{`BEGIN IMMEDIATE`, `COMMIT`, `ROLLBACK`} {
		if *stmts[i], err = c.PrepareContext(ctx, q); err != nil {
			e.releaseWriteConn()
			return fmt.Errorf("write connection: prepare %s: %w", q, err)
		}
	}
	return nil
}

// releaseWriteConn closes the statements prepared on the write connection and gives it back
// to wdb, so wdb.Close closes it last of all, which checkpoints the WAL and removes it. A
// sql.Conn leaves its statements to its user: one left open would keep SQLite's connection
// (and its files) open past Close.
func (e *Engine) releaseWriteConn() {
	for _, s := range e.stmts {
		s.Close()
	}
	for _, s := range []*sql.Stmt{e.begin, e.commitTx, e.rollbackTx} {
		if s != nil {
			s.Close()
		}
	}
	if err := e.wconn.Close(); err != nil {
		e.log.Warn("release the write connection", "err", err)
	}
}

func (e *Engine) loadTopology() error {
	rows, err := e.wdb.Query(`SELECT name, visibility_timeout_ms, max_receive_count, dead_letter_queue FROM queues`)
	if err != nil {
		return fmt.Errorf("load queues: %w", err)
	}
	for rows.Next() {
		var name string
		var cfg QueueConfig
		var vt int64
		if err := rows.Scan(&name, &vt, &cfg.MaxReceiveCount, &cfg.DeadLetterQueue); err != nil {
			rows.Close()
			return fmt.Errorf("load queues: %w", err)
		}
		cfg.VisibilityTimeout = time.Duration(vt) * time.Millisecond
		e.queues[name] = cfg
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load queues: %w", err)
	}
	rows, err = e.wdb.Query(`SELECT topic, queue FROM subscriptions ORDER BY topic, queue`)
	if err != nil {
		return fmt.Errorf("load subscriptions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var topic, queue string
		if err := rows.Scan(&topic, &queue); err != nil {
			return fmt.Errorf("load subscriptions: %w", err)
		}
		e.subs[topic] = append(e.subs[topic], queue)
	}
	return rows.Err()
}

// Close stops the writer after the batch in progress and closes the database. Operations
// started afterwards return ErrClosed.
func (e *Engine) Close() error {
	var err error
	e.closeOnce.Do(func() {
		close(e.closed)
		<-e.writerDone
		<-e.sweepDone
		<-e.checkpointDone
		// The write connection closes last: closing the last connection checkpoints and
		// removes the WAL.
		err = errors.Join(e.cdb.Close(), e.rdb.Close(), e.wdb.Close(), e.releaseDBFile(), e.releaseShm())
	})
	return err
}

// Events returns the events table and its change stream.
func (e *Engine) Events() *Store { return e.events }

// writeOp is one unit of work for the writer: fn runs inside a savepoint of the batch's
// transaction, and its signals fire only after the batch commits.
type writeOp struct {
	fn      func(w *wtx) error
	done    chan error
	signals []func()
	// sibling: the op usually comes with others a few µs behind it (a subscriber batch's
	// PutNews); taken alone, it lets them queue first (writer).
	sibling bool
}

// wtx is what a write op sees: the batch's transaction and a way to wake waiters on commit.
type wtx struct {
	b  *batchTx
	op *writeOp
}

// batchTx is one group commit's transaction, open on the write connection.
type batchTx struct {
	e *Engine
}

// stmt returns query prepared once per engine on the write connection (SQL parsing is a
// sizable part of a small write in SQLite), or nil on the first use of query, which the
// writer prepares after the commit.
func (b *batchTx) stmt(query string) *sql.Stmt {
	s, ok := b.e.stmts[query] // only the writer goroutine touches e.stmts
	if !ok {
		b.e.unprepared[query] = true
		return nil
	}
	return s
}

// exec runs a statement of the batch itself (savepoints), prepared like the ops' statements.
func (b *batchTx) exec(query string) (sql.Result, error) {
	if s := b.stmt(query); s != nil {
		return s.Exec()
	}
	return b.e.wconn.ExecContext(context.Background(), query)
}

// Exec runs query in the batch's transaction.
func (w *wtx) Exec(query string, args ...any) (sql.Result, error) {
	if s := w.b.stmt(query); s != nil {
		return s.Exec(args...)
	}
	return w.b.e.wconn.ExecContext(context.Background(), query, args...)
}

// Query runs query in the batch's transaction.
func (w *wtx) Query(query string, args ...any) (*sql.Rows, error) {
	if s := w.b.stmt(query); s != nil {
		return s.Query(args...)
	}
	return w.b.e.wconn.QueryContext(context.Background(), query, args...)
}

// QueryRow runs a prepared single-row query in the batch's transaction.
func (w *wtx) QueryRow(query string, args ...any) *sql.Row {
	if s := w.b.stmt(query); s != nil {
		return s.QueryRow(args...)
	}
	return w.b.e.wconn.QueryRowContext(context.Background(), query, args...)
}

// afterCommit registers f to run once the op's changes are committed.
func (w *wtx) afterCommit(f func()) { w.op.signals = append(w.op.signals, f) }

// maxBatch bounds a group commit so one huge burst cannot starve the callers at its front.
const maxBatch = 256

// write runs fn in the writer's next transaction and returns once that transaction has
// committed (or fn failed). If ctx ends before the writer takes the op, it never runs.
func (e *Engine) write(ctx context.Context, fn func(w *wtx) error) error {
	return e.send(ctx, &writeOp{fn: fn, done: make(chan error, 1)})
}

// writeSibling is write for an op that usually has siblings a few µs behind it (writeOp.sibling).
func (e *Engine) writeSibling(ctx context.Context, fn func(w *wtx) error) error {
	return e.send(ctx, &writeOp{fn: fn, done: make(chan error, 1), sibling: true})
}

func (e *Engine) send(ctx context.Context, op *writeOp) error {
	select {
	case e.ops <- op:
	case <-ctx.Done():
		return ctx.Err()
	case <-e.closed:
		return ErrClosed
	}
	// Once taken, the op is short and its outcome must be known (a commit may already be under
	// way), so wait for it regardless of ctx.
	return <-op.done
}

func (e *Engine) writer() {
	defer close(e.writerDone)
	defer e.releaseWriteConn()
	batch := make([]*writeOp, 0, maxBatch)
	for {
		select {
		case op := <-e.ops:
			batch = append(batch[:0], op)
		case done := <-e.restarts:
			done <- e.restartWAL()
			continue
		case <-e.closed:
			return
		}
		batch = e.gather(batch) // everyone who queued up while the previous commit ran
		if len(batch) == 1 && batch[0].sibling {
			// A lone op with siblings on the way: let the goroutines that are ready to run
			// go first, then take what they queued. A subscriber batch's ten PutNews reach
			// the writer a few µs apart, and committed one by one each pays a WAL frame for
			// every b-tree it touches (~10); flat out, 90 % of commits were of one op. When
			// nothing else is runnable, Gosched returns at once. Not for a publish: a client
			// waits for its 202, and the yield doubled the p99 at 1,000 req/s.
			runtime.Gosched()
			batch = e.gather(batch)
		}
		e.commit(batch)
		e.prepare()
	}
}

// gather adds the ops waiting to be taken, up to maxBatch, without waiting for more.
func (e *Engine) gather(batch []*writeOp) []*writeOp {
	for len(batch) < maxBatch {
		select {
		case op := <-e.ops:
			batch = append(batch, op)
		default:
			return batch
		}
	}
	return batch
}

// prepare prepares the statements first seen in the last batch, now that the connection is free.
func (e *Engine) prepare() {
	for q := range e.unprepared {
		delete(e.unprepared, q)
		ps, err := e.wconn.PrepareContext(context.Background(), q)
		if err != nil {
			e.log.Warn("prepare statement", "err", err) // it keeps running unprepared
			continue
		}
		e.stmts[q] = ps
	}
}

// commit runs batch in one transaction, each op in its own savepoint so one op's failure
// does not undo the others.
func (e *Engine) commit(batch []*writeOp) {
	errs := make([]error, len(batch))
	fail := func(err error) {
		for _, op := range batch {
			op.done <- err
		}
	}
	if _, err := e.begin.Exec(); err != nil {
		fail(fmt.Errorf("begin: %w", err))
		return
	}
	tx := writeTx{e}
	b := &batchTx{e: e}
	single := len(batch) == 1
	for i, op := range batch {
		w := &wtx{b: b, op: op}
		if single {
			errs[i] = op.fn(w)
			break
		}
		if _, err := b.exec(`SAVEPOINT op`); err != nil {
			tx.Rollback()
			fail(fmt.Errorf("savepoint: %w", err))
			return
		}
		if errs[i] = op.fn(w); errs[i] != nil {
			op.signals = nil
			if _, err := b.exec(`ROLLBACK TO op`); err != nil {
				// SQLite rolled the whole transaction back (disk full, I/O error): nothing stands.
				tx.Rollback()
				fail(fmt.Errorf("rollback to savepoint after %v: %w", errs[i], err))
				return
			}
		}
		if _, err := b.exec(`RELEASE op`); err != nil {
			tx.Rollback()
			fail(fmt.Errorf("release savepoint: %w", err))
			return
		}
	}
	if single && errs[0] != nil {
		tx.Rollback()
		batch[0].done <- errs[0]
		return
	}
	if _, err := e.commitTx.Exec(); err != nil {
		tx.Rollback() // a failed COMMIT may leave the transaction open (SQLITE_BUSY)
		fail(fmt.Errorf("commit: %w", err))
		return
	}
	e.commits.Add(1)
	if h := e.commitHook.Load(); h != nil {
		(*h)() // tests only: between the commit and the signals
	}
	for i, op := range batch {
		if errs[i] == nil {
			for _, f := range op.signals {
				f()
			}
		}
		op.done <- errs[i]
	}
}

// writeTx is the open transaction of a group commit, for rolling it back.
type writeTx struct{ e *Engine }

// Rollback ends the transaction if it is still open. Its error is not worth reporting: SQLite
// rolls the transaction back itself after some errors (an I/O error, a full disk), and then
// ROLLBACK fails with "no transaction is active".
func (t writeTx) Rollback() {
	_, _ = t.e.rollbackTx.Exec()
}

// broadcaster wakes every goroutine waiting on it; waiters take a fresh channel each time.
type broadcaster struct {
	mu  sync.Mutex
	ch  chan struct{}
	gen uint64 // notifications so far
}

func (b *broadcaster) wait() <-chan struct{} {
	ch, _ := b.waitGen()
	return ch
}

// waitGen is wait, with the number of notifications before the channel closes.
func (b *broadcaster) waitGen() (<-chan struct{}, uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch, b.gen
}

func (b *broadcaster) notify() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.gen++
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}

func (e *Engine) queueWaiter(queue string) *broadcaster {
	e.mu.Lock()
	defer e.mu.Unlock()
	b := e.waiters[queue]
	if b == nil {
		b = &broadcaster{}
		e.waiters[queue] = b
	}
	return b
}

// sweeper deletes expired events and stream records, like DynamoDB TTL and stream trimming.
func (e *Engine) sweeper() {
	if e.opts.SweepInterval < 0 {
		close(e.sweepDone)
		return
	}
	e.every(e.opts.SweepInterval, e.sweepDone, func() {
		if n, err := e.Sweep(context.Background(), time.Now()); err != nil {
			e.log.Warn("sweep expired events", "err", err)
		} else if n > 0 {
			e.log.Debug("swept expired rows", "rows", n)
		}
	})
}

// every calls fn each d until the engine closes, then closes done: the sweeper's loop. The
// checkpointer runs its own, which ticks for its passes and its writeback (checkpoint.go).
func (e *Engine) every(d time.Duration, done chan struct{}, fn func()) {
	defer close(done)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-e.closed:
			return
		case <-t.C:
			fn()
		}
	}
}

// Sweep deletes events whose TTL passed before now and stream records older than the stream
// retention. It returns how many rows it deleted.
func (e *Engine) Sweep(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := e.write(ctx, func(w *wtx) error {
			// Bounded deletes keep each group commit short. The stream first: an event whose
			// record refers to it stays until that record is gone (below).
			// The newest record is blanked, not deleted: its seq is the stream's counter (schema 10).
			cutoff := now.Add(-e.opts.StreamRetention).UnixNano()
			r, err := w.Exec(`DELETE FROM stream WHERE seq IN (SELECT seq FROM stream
				WHERE created_at < ?1 AND seq < (SELECT max(seq) FROM stream) ORDER BY seq LIMIT 1000)`, cutoff)
			if err != nil {
				return fmt.Errorf("trim stream: %w", err)
			}
			b, _ := r.RowsAffected()
			if b < 1000 {
				r, err = w.Exec(`UPDATE stream SET event_name = ?1, keys = '', new_image = '', image = NULL, event_id = NULL, size_bytes = 0
					WHERE seq = (SELECT max(seq) FROM stream) AND created_at < ?2 AND event_name != ?1`, streamTrimmed, cutoff)
				if err != nil {
					return fmt.Errorf("trim the newest stream record: %w", err)
				}
				blanked, _ := r.RowsAffected()
				b += blanked
			}
			// Records refer to events stored in the same order (PutNew), so the events row of
			// the oldest record that refers to one bounds every referred row from below. PutNew
			// refers only to events that expire after their record is trimmed; this bound keeps
			// that true when it is not (a longer StreamRetention than when the record was written).
			referred := int64(math.MaxInt64)
			err = w.QueryRow(`SELECT e.rowid FROM stream s CROSS JOIN events e ON e.id = s.event_id ORDER BY s.seq LIMIT 1`).Scan(&referred)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("find the oldest stream record's event: %w", err)
			}
			a, err := sweepEvents(w, now.Unix(), referred)
			if err != nil {
				return err
			}
			r, err = w.Exec(`DELETE FROM blobs WHERE key IN (SELECT key FROM blobs WHERE expires_at > 0 AND expires_at < ? LIMIT 100)`, now.Unix())
			if err != nil {
				return fmt.Errorf("delete expired blobs: %w", err)
			}
			blobs, _ := r.RowsAffected()
			a += blobs
			r, err = w.Exec(`DELETE FROM rejected WHERE id IN (SELECT id FROM rejected WHERE expires_at < ? LIMIT 1000)`, now.Unix())
			if err != nil {
				return fmt.Errorf("delete expired rejections: %w", err)
			}
			c, _ := r.RowsAffected()
			n = a + b + c
			return nil
		})
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// sweepEvents deletes up to about 1000 events that expired before now (unix seconds) and whose
// rowid is below referred, found through expiry_blocks (schema 11), lowest block first. After
// each block it sets the block's bound to what is left in it, or drops the block: a bound may
// be lower than its events' (they went some other way), and then it is raised here, so a look
// that deletes nothing still moves on to the next block.
func sweepEvents(w *wtx, now, referred int64) (deleted int64, err error) {
	if referred <= 0 {
		return 0, nil
	}
	last := (referred - 1) >> expiryBlockShift
	for b := int64(-1); deleted < 1000; {
		err := w.QueryRow(`SELECT block FROM expiry_blocks WHERE block > ? AND block <= ? AND min_expires < ? ORDER BY block LIMIT 1`, b, last, now).Scan(&b)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return deleted, fmt.Errorf("find a block with expired events: %w", err)
		}
		lo, hi := b<<expiryBlockShift, (b+1)<<expiryBlockShift
		r, err := w.Exec(`DELETE FROM events WHERE rowid IN (SELECT rowid FROM events
			WHERE rowid >= ? AND rowid < ? AND rowid < ? AND expires_at > 0 AND expires_at < ? LIMIT ?)`, lo, hi, referred, now, 1000-deleted)
		if err != nil {
			return deleted, fmt.Errorf("delete expired events: %w", err)
		}
		n, _ := r.RowsAffected()
		deleted += n
		var left sql.NullInt64
		if err := w.QueryRow(`SELECT min(expires_at) FROM events WHERE rowid >= ? AND rowid < ? AND expires_at > 0`, lo, hi).Scan(&left); err != nil {
			return deleted, fmt.Errorf("bound the expiry of block %d: %w", b, err)
		}
		if left.Valid {
			_, err = w.Exec(`UPDATE expiry_blocks SET min_expires = ? WHERE block = ? AND min_expires < ?`, left.Int64, b, left.Int64)
		} else {
			_, err = w.Exec(`DELETE FROM expiry_blocks WHERE block = ?`, b)
		}
		if err != nil {
			return deleted, fmt.Errorf("bound the expiry of block %d: %w", b, err)
		}
	}
	return deleted, nil
}
