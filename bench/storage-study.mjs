// The layout study that bench:storage ran on the layout before Migration20261204000000 (results kept
// in bench/RESULTS.md, "Storage before Migration20261204000000"). It reads that layout's columns
// (job_events.job_class, arguments, payload, instance, jid...), so it no longer runs on a migrated
// database and bench:storage no longer calls it; runStudy(url, ...) needs a database at the
// migrations before Migration20261204000000 filled by that version's writer.
// SQL only (the service is not involved): candidate layouts of
// jobs and job_events built in scratch schemas of the measured database from the SAME rows
// (INSERT ... SELECT from public.jobs / public.job_events), one change at a time and combined.
// Each layout is built twice, with the finished jobs and with the dead ones, in the order the
// writer writes: the queued events, the job rows as they are after their queued event, the other
// events, then the job rows updated to their final state once per request that touched them
// (finished: once; dead: once per run and once for the dead event), then VACUUM ANALYZE. Bytes per
// job: the schema's relations minus the same layout built empty, over the jobs.
import pg from 'pg';
import { relationSizes, sql, totalBytes } from './lib.mjs';

const EVENT_TYPES = [
  'scheduled',
  'queued',
  'started',
  'succeeded',
  'failed',
  'retrying',
  'dead',
  'interrupted',
  'restarted',
  'cancelled',
];

// size class of a column type, for the aligned order: 8-byte, 4, 2, 1, then variable length
const WIDTH = {
  bigint: 8,
  timestamptz: 8,
  'double precision': 8,
  integer: 4,
  smallint: 2,
  boolean: 1,
  text: 0,
  jsonb: 0,
};

/** [column, type, expression over e (public.job_events) and j (its public.jobs row)] */
function eventColumns(o) {
  const cols = [
    ...(o.id === 'none' ? [] : [['id', 'bigint', 'e.id']]),
    ...(o.key === 'jobid'
      ? [['job_id', 'bigint', 'j.id']]
      : [
          ['instance', 'text', 'e.instance'],
          ['jid', 'text', 'e.jid'],
        ]),
    o.type === 'smallint'
      ? [
          'type',
          'smallint',
          `array_position(array[${EVENT_TYPES.map((t) => `'${t}'`).join(',')}], e.type)::int2`,
        ]
      : ['type', 'text', 'e.type'],
    ...(o.dedupeKey ? [['dedupe_key', 'text', 'e.dedupe_key']] : []),
    ['occurred_at', 'timestamptz', 'e.occurred_at'],
    ['client_time', 'boolean', 'e.client_time'],
    ['received_at', 'timestamptz', 'e.received_at'],
    ['attempt', 'integer', 'e.attempt'],
    ['retry_count', 'integer', 'e.retry_count'],
    ...(o.identity
      ? [
          ['job_class', 'text', 'e.job_class'],
          ['queue', 'text', 'e.queue'],
          ['arguments', 'text', 'e.arguments'],
          ['payload', 'text', 'e.payload'],
        ]
      : []),
    ['enqueued_at', 'timestamptz', 'e.enqueued_at'],
    ...(o.createdAt ? [['created_at', 'timestamptz', 'e.created_at']] : []),
    ['scheduled_at', 'timestamptz', 'e.scheduled_at'],
    ['hostname', 'text', 'e.hostname'],
    ['pid', 'integer', 'e.pid'],
    ['tid', 'text', 'e.tid'],
    ['error_class', 'text', 'e.error_class'],
    ['error_message', 'text', 'e.error_message'],
    ['error_backtrace', 'jsonb', 'e.error_backtrace'],
    ['will_retry', 'boolean', 'e.will_retry'],
    ['duration_ms', 'double precision', 'e.duration_ms'],
    ['restarted_as', 'text', 'e.restarted_as'],
    ['restarted_from', 'text', 'e.restarted_from'],
  ];
  return o.aligned ? aligned(cols) : cols;
}

const aligned = (cols) =>
  cols
    .map((c, i) => ({ c, i, w: WIDTH[c[1]] }))
    .sort((a, b) => (b.w || -1) - (a.w || -1) || a.i - b.i)
    .map((x) => x.c);

const payloadExpr = {
  full: 'j.payload',
  // the args inside the payload are the arguments column, byte for byte (the client's JSON)
  noargs: `case when j.payload is null or j.arguments is null then j.payload
    else replace(j.payload, '"args":' || j.arguments || ',', '') end`,
};

// the state columns of a job row and their value after wave w of `waves` (the last: final)
const STATE = [
  ['status', 'text', `case when $w = $W then j.status else 'retrying' end`, `'queued'`],
  ['attempt', 'integer', `case when $w = $W then j.attempt else $w - 1 end`, '0'],
  [
    'started_at',
    'timestamptz',
    `case when $w = $W then j.started_at else j.first_event_at + $w * interval '1 minute' end`,
    'null',
  ],
  ['completed_at', 'timestamptz', 'j.completed_at', 'null'],
  [
    'failed_at',
    'timestamptz',
    `case when $w = $W then j.failed_at else j.first_event_at + $w * interval '1 minute' end`,
    'null',
  ],
  ['tid', 'text', 'j.tid', 'null'],
  ['error_class', 'text', 'j.error_class', 'null'],
  ['error_message', 'text', 'j.error_message', 'null'],
  ['error_backtrace', 'jsonb', 'j.error_backtrace', 'null'],
  ['will_retry', 'boolean', 'j.will_retry', 'null'],
  ['duration_ms', 'double precision', 'j.duration_ms', 'null'],
  ['event_count', 'integer', `case when $w = $W then j.event_count else 1 + 3 * $w end`, '1'],
  [
    'last_event_at',
    'timestamptz',
    `case when $w = $W then j.last_event_at else j.first_event_at + $w * interval '1 minute' end`,
    'j.first_event_at',
  ],
  ['updated_at', 'timestamptz', 'now()', 'now()'],
];
const STATE_NAMES = new Set(STATE.map((c) => c[0]));

/** [column, type, final expression, expression after the queued event] */
function jobColumns(o) {
  const state = new Map(STATE.map((c) => [c[0], c]));
  const cols = [
    ['id', 'bigint', 'j.id'],
    ['instance', 'text', 'j.instance'],
    ['jid', 'text', 'j.jid'],
    ['job_class', 'text', 'j.job_class'],
    ['queue', 'text', 'j.queue'],
    ['arguments', 'text', 'j.arguments'],
    ...(o.payload === 'none' ? [] : [['payload', 'text', payloadExpr[o.payload]]]),
    'status',
    'attempt',
    ['created_at', 'timestamptz', 'j.created_at'],
    ['enqueued_at', 'timestamptz', 'j.enqueued_at'],
    ['scheduled_at', 'timestamptz', 'j.scheduled_at'],
    'started_at',
    'completed_at',
    'failed_at',
    ['hostname', 'text', 'j.hostname'],
    ['pid', 'integer', 'j.pid'],
    'tid',
    'error_class',
    'error_message',
    'error_backtrace',
    'will_retry',
    'duration_ms',
    ['restarted_as', 'text', 'j.restarted_as'],
    ['restarted_from', 'text', 'j.restarted_from'],
    'event_count',
    ['first_event_at', 'timestamptz', 'j.first_event_at'],
    'last_event_at',
    'updated_at',
  ].map((c) => (typeof c === 'string' ? state.get(c) : [...c, c[2]]));
  return o.aligned ? aligned(cols) : cols;
}

const TERMINAL = `"status" in ('succeeded', 'failed', 'dead')`;

/** The jobs indexes of today's migrations, and the alternatives the study tries. */
const JOB_INDEXES = {
  jobs_pkey: (t) => `alter table ${t} add constraint jobs_pkey primary key (id)`,
  jobs_instance_jid_unique: (t) =>
    `create unique index jobs_instance_jid_unique on ${t} (instance, jid)`,
  jobs_status_id_index: (t) => `create index jobs_status_id_index on ${t} (status, id)`,
  jobs_job_class_id_index: (t) => `create index jobs_job_class_id_index on ${t} (job_class, id)`,
  jobs_queue_id_index: (t) => `create index jobs_queue_id_index on ${t} (queue, id)`,
  jobs_last_event_at_brin: (t) =>
    `create index jobs_last_event_at_brin on ${t} using brin (last_event_at)`,
  jobs_status_arguments_trgm_index: (t) =>
    `create index jobs_status_arguments_trgm_index on ${t} using gin (status, arguments gin_trgm_ops)`,
  jobs_class_outcome_metrics_index: (t) => `create index jobs_class_outcome_metrics_index on ${t}
      (job_class, queue, (coalesce(completed_at, failed_at)))
      include (instance, status, created_at, enqueued_at, started_at, completed_at, failed_at, duration_ms)
      where ${TERMINAL}`,
  jobs_outcome_at_index: (t) =>
    `create index jobs_outcome_at_index on ${t} ((coalesce(completed_at, failed_at))) where ${TERMINAL}`,
  // alternatives
  jobs_arguments_trgm_index: (t) =>
    `create index jobs_arguments_trgm_index on ${t} using gin (arguments gin_trgm_ops)`,
  // fastupdate off: no pending list, which stays allocated up to gin_pending_list_limit (4 MB)
  jobs_status_arguments_trgm_index_nofu: (t) =>
    `create index jobs_status_arguments_trgm_index on ${t} using gin (status, arguments gin_trgm_ops)
      with (fastupdate = off)`,
  jobs_arguments_trgm_index_nofu: (t) =>
    `create index jobs_arguments_trgm_index on ${t} using gin (arguments gin_trgm_ops)
      with (fastupdate = off)`,
  // jid first: also serves lookups by jid alone (status API, findByJid without an instance)
  jobs_jid_instance_unique: (t) =>
    `create unique index jobs_jid_instance_unique on ${t} (jid, instance)`,
  // on the state table of a split layout
  jobs_state_pkey: (t) => `alter table ${t} add constraint jobs_state_pkey primary key (id)`,
  jobs_state_status_id_index: (t) => `create index jobs_state_status_id_index on ${t} (status, id)`,
  jobs_state_class_outcome_metrics_index: (
    t,
  ) => `create index jobs_state_class_outcome_metrics_index
      on ${t} (job_class, queue, (coalesce(completed_at, failed_at)))
      include (status, enqueued_at, started_at, completed_at, failed_at, duration_ms)
      where ${TERMINAL}`,
  jobs_state_outcome_at_index: (t) =>
    `create index jobs_state_outcome_at_index on ${t} ((coalesce(completed_at, failed_at))) where ${TERMINAL}`,
  jobs_state_last_event_at_brin: (t) =>
    `create index jobs_state_last_event_at_brin on ${t} using brin (last_event_at)`,
};
const SPLIT_INDEXES = [
  'jobs_pkey',
  'jobs_jid_instance_unique',
  'jobs_job_class_id_index',
  'jobs_queue_id_index',
  'jobs_arguments_trgm_index_nofu',
  'jobs_state_pkey',
  'jobs_state_status_id_index',
  'jobs_state_class_outcome_metrics_index',
  'jobs_state_outcome_at_index',
  'jobs_state_last_event_at_brin',
];
const TODAY_JOB_INDEXES = Object.keys(JOB_INDEXES).slice(0, 9);
// state columns unindexed: only indexes over columns a job's updates never change
const IMMUTABLE_JOB_INDEXES = [
  'jobs_pkey',
  'jobs_instance_jid_unique',
  'jobs_job_class_id_index',
  'jobs_queue_id_index',
  'jobs_arguments_trgm_index',
];

const TODAY = {
  ev: {
    id: 'pkey',
    key: 'text',
    type: 'text',
    dedupeKey: true,
    unique: true,
    identity: true,
    createdAt: true,
    aligned: false,
    partition: false,
  },
  jobs: { payload: 'full', indexes: TODAY_JOB_INDEXES, fillfactor: 100, aligned: false },
  replay: true,
  storage: {},
};

function layout(name, change, ev = {}, jobs = {}, extra = {}) {
  return {
    name,
    change,
    ev: { ...TODAY.ev, ...ev },
    jobs: { ...TODAY.jobs, ...jobs },
    replay: extra.replay ?? true,
    storage: extra.storage ?? {},
  };
}

const NOFU_INDEXES = TODAY_JOB_INDEXES.map((i) =>
  i === 'jobs_status_arguments_trgm_index' ? 'jobs_status_arguments_trgm_index_nofu' : i,
);

const LEAN_EVENTS = {
  identity: false,
  unique: false,
  id: 'brin',
  key: 'jobid',
  dedupeKey: false,
  type: 'smallint',
  createdAt: false,
  aligned: true,
};

const LAYOUTS = [
  layout('today', "today's migrations, rows written as the writer writes them"),
  layout(
    'today, compact',
    'the same rows written once in their final state (no update)',
    {},
    {},
    {
      replay: false,
    },
  ),
  layout('a', 'job_events without job_class, queue, arguments, payload', { identity: false }),
  layout('b', 'no unique dedupe index on job_events; (instance, jid) for timelines', {
    unique: false,
  }),
  layout('c1', 'job_events without id and its pkey', { id: 'none' }),
  layout('c2', 'job_events.id under a BRIN index instead of the pkey', { id: 'brin' }),
  layout(
    'd',
    'jobs without job_class_id, queue_id and outcome_at indexes',
    {},
    {
      indexes: TODAY_JOB_INDEXES.filter(
        (i) =>
          !['jobs_job_class_id_index', 'jobs_queue_id_index', 'jobs_outcome_at_index'].includes(i),
      ),
    },
  ),
  layout('e1', 'jobs.payload without its args (they equal arguments)', {}, { payload: 'noargs' }),
  layout('e2', 'no payload stored', { identity: true }, { payload: 'none' }),
  layout('f: ff 80', "jobs fillfactor 80, today's indexes", {}, { fillfactor: 80 }),
  ...[100, 90, 80, 70].map((ff) =>
    layout(
      `f: ff ${ff}, state unindexed`,
      `jobs fillfactor ${ff}, indexes on immutable columns only (${IMMUTABLE_JOB_INDEXES.length})`,
      {},
      { fillfactor: ff, indexes: IMMUTABLE_JOB_INDEXES },
    ),
  ),
  layout(
    'g1',
    'no trigram index',
    {},
    {
      indexes: TODAY_JOB_INDEXES.filter((i) => i !== 'jobs_status_arguments_trgm_index'),
    },
  ),
  layout(
    'g4',
    'trigram index with fastupdate = off (no 4 MB pending list)',
    {},
    {
      indexes: TODAY_JOB_INDEXES.map((i) =>
        i === 'jobs_status_arguments_trgm_index' ? 'jobs_status_arguments_trgm_index_nofu' : i,
      ),
    },
  ),
  layout('g2', 'lz4 TOAST compression', {}, {}, { storage: { lz4: true } }),
  layout(
    'g3',
    'lz4 and toast_tuple_target = 128 (compress values of short rows too)',
    {},
    {},
    {
      storage: { lz4: true, toastTarget: 128 },
    },
  ),
  // a unique index of a partitioned table must hold the partition key, which would no longer
  // dedupe: the writer dedupes (b)
  layout('h', 'job_events partitioned by day of received_at (3 days + default); b; id btree', {
    partition: true,
    unique: false,
    id: 'btree',
  }),
  layout('i', 'job_events keyed by the job row id (bigint) instead of (instance, jid)', {
    key: 'jobid',
  }),
  layout('j1', 'job_events without dedupe_key (= type|attempt|client time: derivable)', {
    dedupeKey: false,
    unique: false,
  }),
  layout('j2', 'job_events: type as smallint, no created_at (on the job), columns aligned', {
    type: 'smallint',
    createdAt: false,
    aligned: true,
  }),
  layout('R1', 'lean events (a b c2 i j1 j2) + g4; jobs otherwise as today', LEAN_EVENTS, {
    indexes: NOFU_INDEXES,
  }),
  layout('R2', 'R1 + payload without args (e1)', LEAN_EVENTS, {
    payload: 'noargs',
    indexes: NOFU_INDEXES,
  }),
  layout(
    'R3',
    'R2 + events id under a btree (metrics cursor by index)',
    {
      ...LEAN_EVENTS,
      id: 'btree',
    },
    { payload: 'noargs', indexes: NOFU_INDEXES },
  ),
  layout(
    'R4',
    'R2 partitioned by day (h)',
    { ...LEAN_EVENTS, partition: true },
    {
      payload: 'noargs',
      indexes: NOFU_INDEXES,
    },
  ),
  layout('R5', 'R2 + jobs indexes d (no class_id, queue_id, outcome_at)', LEAN_EVENTS, {
    payload: 'noargs',
    indexes: NOFU_INDEXES.filter(
      (i) =>
        !['jobs_job_class_id_index', 'jobs_queue_id_index', 'jobs_outcome_at_index'].includes(i),
    ),
  }),
  layout('R6', 'R2 without payload (e2)', LEAN_EVENTS, { payload: 'none', indexes: NOFU_INDEXES }),
  layout(
    'k',
    'jobs split: identity written once (trigram with g4, class, queue) + narrow state row updated (status, metrics)',
    {},
    { split: true, indexes: SPLIT_INDEXES },
  ),
  layout(
    'R7',
    'R2 + k (lean events, payload without args, identity apart from state)',
    LEAN_EVENTS,
    {
      payload: 'noargs',
      split: true,
      indexes: SPLIT_INDEXES,
    },
  ),
  layout('R8', 'R7 without class_id, queue_id and outcome_at indexes', LEAN_EVENTS, {
    payload: 'noargs',
    split: true,
    indexes: SPLIT_INDEXES.filter(
      (i) =>
        !['jobs_job_class_id_index', 'jobs_queue_id_index', 'jobs_state_outcome_at_index'].includes(
          i,
        ),
    ),
  }),
  layout('R9', 'R7 without payload', LEAN_EVENTS, {
    payload: 'none',
    split: true,
    indexes: SPLIT_INDEXES,
  }),
];

/** The DDL of a layout in schema s. */
function ddl(s, l, day) {
  const q = [];
  const storage = [
    ...(l.storage.toastTarget ? [`toast_tuple_target = ${l.storage.toastTarget}`] : []),
  ];
  const ev = eventColumns(l.ev);
  const evWith = storage.length && !l.ev.partition ? ` with (${storage.join(', ')})` : '';
  q.push(
    `create table ${s}.job_events (${ev.map(([c, t]) => `"${c}" ${t}`).join(', ')})${
      l.ev.partition ? ' partition by range (received_at)' : evWith
    }`,
  );
  if (l.ev.partition) {
    for (let d = -1; d <= 1; d++) {
      q.push(
        `create table ${s}.job_events_${d + 1} partition of ${s}.job_events
         for values from ('${day(d)}') to ('${day(d + 1)}')${evWith}`,
      );
    }
    q.push(`create table ${s}.job_events_default partition of ${s}.job_events default${evWith}`);
  }
  const key = l.ev.key === 'jobid' ? ['job_id'] : ['instance', 'jid'];
  if (l.ev.unique) {
    q.push(
      `create unique index job_events_dedupe_idx on ${s}.job_events (${[...key, 'dedupe_key'].join(', ')})`,
    );
  } else {
    q.push(`create index job_events_job_idx on ${s}.job_events (${key.join(', ')})`);
  }
  if (l.ev.id === 'pkey') {
    q.push(`alter table ${s}.job_events add constraint job_events_pkey primary key (id)`);
  } else if (l.ev.id === 'btree') {
    q.push(`create index job_events_id_idx on ${s}.job_events (id)`);
  } else if (l.ev.id === 'brin') {
    q.push(`create index job_events_id_brin on ${s}.job_events using brin (id)`);
  }
  q.push(`create index job_events_received_at_brin on ${s}.job_events using brin (received_at)`);

  const jobsWith = [
    ...(l.jobs.fillfactor !== 100 ? [`fillfactor = ${l.jobs.fillfactor}`] : []),
    ...storage,
  ];
  for (const table of jobTables(l)) {
    q.push(
      `create table ${s}.${table.name} (${table.columns.map(([c, t]) => `"${c}" ${t}`).join(', ')})${
        jobsWith.length ? ` with (${jobsWith.join(', ')})` : ''
      }`,
    );
    for (const name of table.indexes) {
      q.push(JOB_INDEXES[name](`${s}.${table.name}`));
    }
  }
  const tables = [
    ...jobTables(l).map((t) => t.name),
    ...(l.ev.partition ? [0, 1, 2, 'default'].map((p) => `job_events_${p}`) : ['job_events']),
  ];
  for (const t of tables) {
    q.push(`alter table ${s}.${t} set (autovacuum_enabled = false)`);
  }
  return q;
}

/**
 * A column's expression as a value built anew: a value read from another table may be stored
 * compressed, and Postgres copies it as it is (the target's compression method is then not used).
 */
function fresh([, type, expr]) {
  return type === 'text' ? `(${expr} || '')` : type === 'jsonb' ? `(${expr})::text::jsonb` : expr;
}

/** Fills schema s (made by ddl) with the finished (dead = false) or the dead jobs' rows. */
async function fill(client, s, l, dead, waves) {
  const which = `(j.status = 'dead') = ${dead}`;
  const ev = eventColumns(l.ev);
  const events = (typeFilter) =>
    client.query(`insert into ${s}.job_events (${ev.map((c) => `"${c[0]}"`).join(', ')})
      select ${ev.map(fresh).join(', ')}
      from public.job_events e join public.jobs j on j.instance = e.instance and j.jid = e.jid
      where ${which} and ${typeFilter} order by e.id`);
  const updates = l.replay ? waves : 0;
  await events(`e.type = 'queued'`);
  for (const { name, columns } of jobTables(l)) {
    await client.query(`insert into ${s}.${name} (${columns.map((c) => `"${c[0]}"`).join(', ')})
      select ${columns
        .map((c) =>
          fresh([c[0], c[1], updates === 0 || !STATE_NAMES.has(c[0]) ? c[2] : c[3]])
            .replaceAll('$w', '1')
            .replaceAll('$W', '1'),
        )
        .join(', ')}
      from public.jobs j where ${which} order by j.id`);
  }
  await events(`e.type <> 'queued'`);
  for (let w = 1; w <= updates; w++) {
    for (const { name, columns } of jobTables(l)) {
      const set = columns
        .filter((c) => STATE_NAMES.has(c[0]))
        .map(
          (c) =>
            `"${c[0]}" = ${fresh(c).replaceAll('$w', String(w)).replaceAll('$W', String(updates))}`,
        );
      if (set.length > 0) {
        await client.query(`update ${s}.${name} t set ${set.join(', ')}
          from public.jobs j where j.id = t.id`);
      }
    }
  }
}

// a job's identity (written once) apart from its state (updated): what stays on the identity row
const IDENTITY = new Set([
  'id',
  'instance',
  'jid',
  'job_class',
  'queue',
  'arguments',
  'payload',
  'created_at',
  'first_event_at',
]);
// job_class and queue also on the state row: the metrics index reads them with the outcome time
const STATE_TOO = new Set(['id', 'job_class', 'queue']);

/** The job tables of a layout: jobs alone, or jobs (identity) and jobs_state. */
function jobTables(l) {
  const columns = jobColumns(l.jobs);
  if (!l.jobs.split) {
    return [{ name: 'jobs', columns, indexes: l.jobs.indexes }];
  }
  return [
    {
      name: 'jobs',
      columns: columns.filter((c) => IDENTITY.has(c[0])),
      indexes: l.jobs.indexes.filter((i) => !i.startsWith('jobs_state')),
    },
    {
      name: 'jobs_state',
      columns: columns.filter((c) => !IDENTITY.has(c[0]) || STATE_TOO.has(c[0])),
      indexes: l.jobs.indexes.filter((i) => i.startsWith('jobs_state')),
    },
  ];
}

async function build(url, s, l, dead, waves, day) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    if (l.storage.lz4) {
      await client.query(`set default_toast_compression = lz4`);
    }
    await client.query(`drop schema if exists ${s} cascade`);
    await client.query(`create schema ${s}`);
    for (const q of ddl(s, l, day)) {
      await client.query(q);
    }
    if (dead !== null) {
      await fill(client, s, l, dead, waves);
      await client.query(`vacuum analyze ${s}.jobs, ${s}.job_events`);
      // this session's table statistics (HOT updates) go out when it is next idle
      await client.query('select pg_stat_force_next_flush()');
    }
  } finally {
    await client.end();
  }
}

/** Bytes of the job tables of schema s, by part: events (incl. partitions) and jobs. */
function parts(sizes) {
  const of = (prefix) => {
    const tables = sizes.tables.filter((t) => t.table.startsWith(prefix));
    const names = new Set(tables.map((t) => t.table));
    const heap = tables.reduce((n, t) => n + t.heap, 0);
    const toast = tables.reduce((n, t) => n + t.toast, 0);
    const indexes = new Map();
    for (const i of sizes.indexes.filter((x) => names.has(x.table))) {
      // partitions' indexes add up under their partitioned index
      indexes.set(i.root, (indexes.get(i.root) ?? 0) + i.bytes);
    }
    return { heap, toast, indexes };
  };
  return { events: of('job_events'), jobs: of('jobs') };
}

function minus(a, b, per) {
  const part = (x, y) => ({
    heap: (x.heap - y.heap) / per,
    toast: (x.toast - y.toast) / per,
    indexes: new Map([...x.indexes].map(([k, v]) => [k, (v - (y.indexes.get(k) ?? 0)) / per])),
  });
  return { events: part(a.events, b.events), jobs: part(a.jobs, b.jobs) };
}

const sumIndexes = (p) => [...p.indexes.values()].reduce((n, v) => n + v, 0);
const totalOf = (split) =>
  split.events.heap +
  split.events.toast +
  sumIndexes(split.events) +
  split.jobs.heap +
  split.jobs.toast +
  sumIndexes(split.jobs);

async function hot(url, s) {
  await new Promise((r) => setTimeout(r, 300));
  const [row] = await sql(
    url,
    `select sum(n_tup_upd)::int as upd, sum(n_tup_hot_upd)::int as hot from pg_stat_user_tables
     where schemaname = $1 and relname in ('jobs', 'jobs_state')`,
    [s],
  );
  return row ?? { upd: 0, hot: 0 };
}

/** What an empty daily partition (with its indexes) costs, and the catalog growth per partition. */
async function partitionOverhead(url, day) {
  const l = LAYOUTS.find((x) => x.name === 'R4');
  const s = 'study_partitions';
  await build(url, s, l, null, 0, day);
  const sizes = await relationSizes(url, s);
  const one = sizes.tables.find((t) => t.table === 'job_events_2');
  const oneIndexes = sizes.indexes.filter((i) => i.table === 'job_events_2');
  const partition = {
    heap: one.heap,
    toast: one.toast,
    indexes: Object.fromEntries(oneIndexes.map((i) => [i.index, i.bytes])),
    total: one.total,
  };
  // 30 more days, and what the database grew by (their files and their catalog rows)
  const [{ before }] = await sql(
    url,
    `select pg_database_size(current_database())::int8::text as before`,
  );
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (let d = 2; d < 32; d++) {
      await client.query(`create table ${s}.job_events_d${d} partition of ${s}.job_events
        for values from ('${day(d)}') to ('${day(d + 1)}')`);
    }
  } finally {
    await client.end();
  }
  const [{ after }] = await sql(
    url,
    `select pg_database_size(current_database())::int8::text as after`,
  );
  // a jobs table partitioned the same way: each partition carries all 9 of today's indexes
  const jobsPart = 'study_jobs_partitions';
  await sql(url, `drop schema if exists ${jobsPart} cascade`);
  await sql(url, `create schema ${jobsPart}`);
  await sql(
    url,
    `create table ${jobsPart}.jobs (like public.jobs) partition by range (first_event_at)`,
  );
  await sql(
    url,
    `create table ${jobsPart}.jobs_1 partition of ${jobsPart}.jobs for values from ('${day(0)}') to ('${day(1)}')`,
  );
  for (const name of TODAY_JOB_INDEXES.filter(
    (n) => !['jobs_pkey', 'jobs_instance_jid_unique'].includes(n),
  )) {
    await sql(url, JOB_INDEXES[name](`${jobsPart}.jobs`));
  }
  // unique keys of a partitioned table must hold the partition key
  await sql(url, `alter table ${jobsPart}.jobs add primary key (id, first_event_at)`);
  await sql(url, `create unique index on ${jobsPart}.jobs (instance, jid, first_event_at)`);
  const jobSizes = await relationSizes(url, jobsPart);
  await sql(url, `drop schema ${s} cascade`);
  await sql(url, `drop schema ${jobsPart} cascade`);
  return {
    events_partition: partition,
    catalog_and_files_per_partition: (Number(after) - Number(before)) / 30,
    jobs_partition: totalBytes(jobSizes),
  };
}

export async function runStudy(url, { jobs, dead, only }) {
  const started = performance.now();
  // dead jobs: one update per run and one for the dead event (bench:storage's retries)
  const [{ waves }] = await sql(
    url,
    `select coalesce(max(attempt), 0)::int + 2 as waves from jobs where status = 'dead'`,
  );
  const [{ today }] = await sql(url, `select date_trunc('day', now())::date::text as today`);
  const day = (d) => {
    const t = new Date(`${today}T00:00:00Z`);
    t.setUTCDate(t.getUTCDate() + d);
    return t.toISOString().slice(0, 10);
  };
  const rows = [];
  for (const l of LAYOUTS.filter((x) => !only || only.includes(x.name))) {
    const t0 = performance.now();
    await build(url, 'study_empty', l, null, 0, day);
    const empty = parts(await relationSizes(url, 'study_empty'));
    await build(url, 'study_finished', l, false, 1, day);
    const finished = minus(parts(await relationSizes(url, 'study_finished')), empty, jobs);
    const hotFinished = await hot(url, 'study_finished');
    await build(url, 'study_dead', l, true, waves, day);
    const deadSplit = minus(parts(await relationSizes(url, 'study_dead')), empty, dead);
    rows.push({
      name: l.name,
      change: l.change,
      finished,
      finishedTotal: totalOf(finished),
      deadTotal: totalOf(deadSplit),
      hot: hotFinished,
    });
    console.error(
      `study ${l.name}: ${totalOf(finished).toFixed(0)} B/finished, ${totalOf(deadSplit).toFixed(0)} B/dead (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }
  for (const s of ['study_empty', 'study_finished', 'study_dead']) {
    await sql(url, `drop schema if exists ${s} cascade`);
  }
  const overhead = await partitionOverhead(url, day);
  const seconds = (performance.now() - started) / 1000;
  return {
    json: { rows: rows.map(jsonRow), overhead, seconds },
    markdown: markdown(rows, overhead, seconds),
  };
}

const jsonRow = (r) => ({
  ...r,
  finished: {
    events: { ...r.finished.events, indexes: Object.fromEntries(r.finished.events.indexes) },
    jobs: { ...r.finished.jobs, indexes: Object.fromEntries(r.finished.jobs.indexes) },
  },
});

const f = (n, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

function markdown(rows, overhead, seconds) {
  const table = [
    '| layout | change | bytes / finished job | bytes / dead job | events heap + TOAST | events indexes | jobs heap + TOAST | jobs indexes | HOT updates |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.change} | **${f(r.finishedTotal)}** | ${f(r.deadTotal)} | ${f(r.finished.events.heap + r.finished.events.toast)} | ${f(sumIndexes(r.finished.events))} | ${f(r.finished.jobs.heap + r.finished.jobs.toast)} | ${f(sumIndexes(r.finished.jobs))} | ${r.hot.upd ? `${f((100 * r.hot.hot) / r.hot.upd)}%` : '—'} |`,
    ),
  ].join('\n');
  const detail = (name) => {
    const r = rows.find((x) => x.name === name);
    if (!r) {
      return '';
    }
    const lines = [`| ${name}: relation | bytes / finished job |`, '| --- | ---: |'];
    for (const [t, p] of [
      ['job_events', r.finished.events],
      ['jobs', r.finished.jobs],
    ]) {
      lines.push(`| ${t} heap | ${f(p.heap)} |`, `| ${t} TOAST | ${f(p.toast)} |`);
      for (const [i, v] of p.indexes) {
        lines.push(`| ${i} | ${f(v)} |`);
      }
    }
    lines.push(`| **all** | **${f(r.finishedTotal)}** |`);
    return lines.join('\n');
  };
  const p = overhead.events_partition;
  return `### Layout study (SQL only, same rows; ${f(seconds)} s)

Each layout is built in a scratch schema of the measured database from its rows, in the writer's
order (queued events, job rows as after their queued event, the other events, then the job rows
updated once per request that touched them: once for a finished job, ${'once per run and once for dead'} for a
dead one), then \`VACUUM ANALYZE\`; bytes per job are the schema's relations minus the same layout
empty. "today" here is the service's layout rebuilt this way (it differs a little from the
measurement above, where the writer's COPY batches and upserts interleave). HOT updates: share of
the job row updates of the finished jobs that were heap-only (pg_stat_user_tables).

${table}

${detail('today')}

${detail('R2')}

Daily partitions of job_events (R4's layout): an empty partition costs ${f(p.total)} bytes on disk
(heap ${f(p.heap)}, TOAST ${f(p.toast)}, ${Object.entries(p.indexes)
    .map(([k, v]) => `${k} ${f(v)}`)
    .join(
      ', ',
    )}); creating 30 of them grew the database by ${f(overhead.catalog_and_files_per_partition)} bytes each
(files and catalog rows). A jobs partition with today's 9 indexes costs ${f(overhead.jobs_partition)} bytes empty.`;
}
